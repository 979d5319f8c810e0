import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

// CPU time of a process from the outside: utime + stime of /proc/<pid>/stat (proc(5), fields 14 and 15, in clock
// ticks). Works for any consumer — a Node child, Mosquitto, influxd — without instrumenting it.

let ticksPerS: number | undefined;

/** USER_HZ (getconf CLK_TCK; 100 on every Linux the bench runs on, read once anyway). */
function clockTicks(): number {
  if (ticksPerS === undefined) {
    try {
      ticksPerS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerS = 100;
    }
  }
  return ticksPerS;
}

/** User + system CPU seconds the process has used so far; undefined when it is gone (or not on Linux). */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may hold spaces and parentheses: count fields after the last ')'. Field 3 is the state.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    return (utime + stime) / clockTicks();
  } catch {
    return undefined;
  }
}

/**
 * Times the process's main thread has gone to sleep and been woken since it started: `voluntary_ctxt_switches` of
 * /proc/<pid>/status (the thread group leader's). Each is one wake-up of its event loop (an epoll_wait that blocked);
 * undefined when the process is gone (or not on Linux).
 */
export function mainThreadWakeUps(pid: number): number | undefined {
  try {
    const m = /^voluntary_ctxt_switches:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}
