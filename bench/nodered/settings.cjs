/* global module */
// Node-RED settings for `npm run bench` system (n) (bench/lib/nodered.ts fills the RG_BENCH_NR_* variables): a temp
// userDir, loopback only, no editor, no credential encryption (the flow holds no credentials), warnings only.
module.exports = {
  userDir: process.env.RG_BENCH_NR_USERDIR,
  flowFile: 'flows.json',
  uiHost: '127.0.0.1',
  uiPort: Number(process.env.RG_BENCH_NR_PORT),
  // No editor and no admin API; the HTTP server stays up for the flow's `websocket out` listener.
  httpAdminRoot: false,
  httpNodeRoot: '/',
  disableEditor: true,
  credentialSecret: false,
  logging: { console: { level: 'warn', metrics: false, audit: false } },
  externalModules: { autoInstall: false, palette: { allowInstall: false }, modules: { allowInstall: false } },
  diagnostics: { enabled: false, ui: false },
  runtimeState: { enabled: false, ui: false },
  telemetry: { enabled: false },
  functionExternalModules: false,
  functionGlobalContext: {},
};
