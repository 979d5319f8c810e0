import type { GeneralReplyBody } from '../codec/bodies/general-reply.js';
import type { Jt808Header } from '../codec/header.js';
import type { HandlerContext } from './handler-context.js';

/** 0x0001: the terminal acknowledges a platform message (e.g. 0x8203). Logged; a reply is never answered. */
export function handleTerminalReply(c: HandlerContext, h: Jt808Header, body: GeneralReplyBody): void {
  c.log.debug({ phone: c.session?.phone ?? h.phone, replySeq: body.replySeq, replyMsgId: body.replyMsgId, result: body.result }, '0x0001 terminal reply');
}
