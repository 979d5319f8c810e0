/* global fetch */
import { ERRORS } from './labels.js';

/** An API error: HTTP status, the gateway's code (`RG_ERR_…`) and a message an operator can read. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/**
 * The gateway's REST API with the operator's bearer token. `onUnauthorized` runs on a 401 (token revoked or expired
 * while the page is open), so that the page can return to sign-in.
 */
export class Api {
  constructor(token, { onUnauthorized = () => {} } = {}) {
    this.token = token;
    this.onUnauthorized = onUnauthorized;
  }

  async request(method, path, body) {
    const headers = { authorization: `Bearer ${this.token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res;
    try {
      res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch {
      throw new ApiError(0, 'network', '无法连接网关，请检查网络');
    }
    const text = await res.text();
    let json;
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      json = {};
    }
    if (!res.ok) {
      const code = json.error?.code ?? `HTTP_${res.status}`;
      if (res.status === 401) this.onUnauthorized();
      throw new ApiError(res.status, code, ERRORS[code] ?? json.error?.message ?? `请求失败（${res.status}）`);
    }
    return json;
  }

  get(path) {
    return this.request('GET', path);
  }

  post(path, body) {
    return this.request('POST', path, body);
  }
}
