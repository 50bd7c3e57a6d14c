// huddle.js: the browser side of huddle's API, shared by the share pages and
// the /app/ client. Plain ES module, no dependencies; it also loads in Node
// (>= 20, for fetch), where the tests use it to call the REST API.
//
// - md5(text): lowercase hex MD5 of the UTF-8 bytes of text (RFC 1321).
// - signParams / canonicalString: the request signature of README.md
//   ("Signing a request").
// - Client: signed REST calls that unwrap the {result, message, status} envelope.
// - Realtime: the /ws connection of docs/realtime.md, with request ids,
//   heartbeats, reconnects and `resume`.

// ---------------------------------------------------------------- MD5

// Per-step left rotations, four per round.
const SHIFTS = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
// K[i] = floor(|sin(i + 1)| * 2^32), as the RFC defines the table.
const K = Array.from({ length: 64 }, (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 4294967296) | 0);

const encoder = new TextEncoder();

/** The MD5 digest of `text` (a string, taken as UTF-8, or bytes), as 32 lowercase hex digits. */
export function md5(text) {
  const input = typeof text === 'string' ? encoder.encode(text) : new Uint8Array(text);
  // Padding: 0x80, zeros up to 56 mod 64, then the bit length as 64-bit little endian.
  const blocks = ((input.length + 8) >>> 6) + 1;
  const bytes = new Uint8Array(blocks * 64);
  bytes.set(input);
  bytes[input.length] = 0x80;
  const bitLength = input.length * 8;
  const view = new DataView(bytes.buffer);
  view.setUint32(bytes.length - 8, bitLength >>> 0, true);
  view.setUint32(bytes.length - 4, Math.floor(bitLength / 4294967296), true);

  let a0 = 0x67452301, b0 = 0xefcdab89 | 0, c0 = 0x98badcfe | 0, d0 = 0x10325476;
  const m = new Int32Array(16);
  for (let off = 0; off < bytes.length; off += 64) {
    for (let j = 0; j < 16; j++) m[j] = view.getInt32(off + j * 4, true);
    let a = a0, b = b0, c = c0, d = d0;
    for (let i = 0; i < 64; i++) {
      const round = i >>> 4;
      let f, g;
      if (round === 0) { f = (b & c) | (~b & d); g = i; }
      else if (round === 1) { f = (d & b) | (~d & c); g = (5 * i + 1) & 15; }
      else if (round === 2) { f = b ^ c ^ d; g = (3 * i + 5) & 15; }
      else { f = c ^ (b | ~d); g = (7 * i) & 15; }
      const sum = (f + a + K[i] + m[g]) | 0;
      const s = SHIFTS[(round << 2) | (i & 3)];
      a = d; d = c; c = b;
      b = (b + ((sum << s) | (sum >>> (32 - s)))) | 0;
    }
    a0 = (a0 + a) | 0; b0 = (b0 + b) | 0; c0 = (c0 + c) | 0; d0 = (d0 + d) | 0;
  }
  let hex = '';
  for (const word of [a0, b0, c0, d0]) {
    for (let k = 0; k < 4; k++) hex += ((word >>> (k * 8)) & 0xff).toString(16).padStart(2, '0');
  }
  return hex;
}

/** RFC 1321 test vectors; returns a list of failures (empty when md5 is right). */
export function md5SelfCheck() {
  const vectors = [
    ['', 'd41d8cd98f00b204e9800998ecf8427e'],
    ['a', '0cc175b9c0f1b6a831c399e269772661'],
    ['abc', '900150983cd24fb0d6963f7d28e17f72'],
    ['message digest', 'f96b697d7cb7938d525a2f31aaf161d0'],
    ['abcdefghijklmnopqrstuvwxyz', 'c3fcd3d76192e4007dfb496cca67e13b'],
    ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', 'd174ab98d277d9f5a5611c2c9f419d9f'],
    ['12345678901234567890123456789012345678901234567890123456789012345678901234567890', '57edf4a22be3c955ac49da2e2107b67a'],
  ];
  return vectors
    .map(([input, want]) => ({ input, want, got: md5(input) }))
    .filter((v) => v.got !== v.want);
}

// ---------------------------------------------------------------- signing

/** The secret used before login and on routes without a user session. */
export const DEFAULT_SECRET = 'Hx!0k!K}5E.]EoP';

/** A parameter value as it is signed: strings as they are, anything else as compact JSON. */
export function paramText(value) {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function compareBytes(x, y) {
  const a = encoder.encode(x), b = encoder.encode(y);
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/** The exact text that is hashed: sorted `key=value` of every parameter but sign, then the secret. */
export function canonicalString(params, secret) {
  const keys = Object.keys(params).filter((k) => k !== 'sign').sort(compareBytes);
  const parts = keys.map((k) => `${k}=${paramText(params[k])}`);
  parts.push(`accessSecret=${secret}`);
  return parts.join('$$$');
}

/** `sign` for `params` under `secret`. */
export function signParams(params, secret) {
  return md5(canonicalString(params, secret));
}

// Two calls with the same parameters in the same millisecond would share a
// sign and the second would be refused as a replay: keep ts strictly increasing.
let lastTs = 0;
/** A fresh timestamp (ms), strictly greater than the previous one handed out. */
export function nextTs() {
  lastTs = Math.max(Date.now(), lastTs + 1);
  return lastTs;
}

/** `params` plus `ts` and `sign`. Entries that are undefined or null are dropped. */
export function signed(params, secret) {
  const out = {};
  for (const [k, v] of Object.entries(params || {})) if (v !== undefined && v !== null) out[k] = v;
  out.ts = nextTs();
  out.sign = signParams(out, secret);
  return out;
}

function base64(text) {
  const bytes = encoder.encode(text);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

// ---------------------------------------------------------------- REST

/** Business codes of the contract, for readable checks. */
export const Codes = Object.freeze({
  REPEATED: -1,
  DEFAULT: 0,
  ACCOUNT_FROZEN: 100002,
  PROFILE_NOT_INITIALISED: 200000,
  PROFILE_ALREADY_INITIALISED: 200001,
  USER_NOT_FOUND: 200002,
  ROOM_NOT_FOUND: 400000,
  ROOM_BLOCKED: 400001,
  CLUB_NOT_FOUND: 500000,
  EVENT_NOT_FOUND: 600000,
});

/** A failed call: `code` is the envelope's result (a business code, or 0), `httpStatus` the HTTP status. */
export class HuddleError extends Error {
  constructor(message, { code = 0, httpStatus = 0, path = '' } = {}) {
    super(message || 'Failure');
    this.name = 'HuddleError';
    this.code = code;
    this.httpStatus = httpStatus;
    this.path = path;
  }
  /** True for a business failure (HTTP 200, status 0). */
  get business() { return this.httpStatus === 200; }
}

/**
 * Signed calls to huddle. `session` ({uid, accessToken, accessSecret, expireTime})
 * makes calls "logged in"; `base` is the server origin ('' = this page's origin).
 */
export class Client {
  constructor({ base = '', session = null, onUnauthorized = null } = {}) {
    this.base = base.replace(/\/$/, '');
    this.session = session;
    this.onUnauthorized = onUnauthorized;
  }

  /**
   * One call. `opts.auth`: 'session' (default when logged in), 'none' (default
   * secret, no Authorization) or 'bearer' (default secret, `Bearer opts.token`).
   * Resolves with the envelope's result; rejects with a HuddleError.
   */
  async call(method, path, params = {}, opts = {}) {
    const env = await this.envelope(method, path, params, opts);
    if (env.status !== 1) {
      throw new HuddleError(env.message, { code: env.result, httpStatus: env.httpStatus, path });
    }
    return env.result;
  }

  /** Like call, but resolves with the whole envelope plus `httpStatus` (never rejects on status 0). */
  async envelope(method, path, params = {}, opts = {}) {
    // -1 means "same sign seen recently, not executed" (two identical calls in
    // one millisecond, e.g. from two share-page viewers): safe to send again.
    for (let attempt = 0; ; attempt++) {
      const env = await this.envelopeOnce(method, path, params, opts);
      if (!(env.status === 0 && env.result === -1 && env.httpStatus === 200) || attempt >= 2) return env;
      await new Promise((r) => setTimeout(r, 10 + Math.random() * 90));
    }
  }

  async envelopeOnce(method, path, params, opts) {
    method = method.toUpperCase();
    const auth = opts.auth || (this.session ? 'session' : 'none');
    const headers = { 'Client-Type': '0', Accept: 'application/json' };
    let secret = DEFAULT_SECRET;
    if (auth === 'session') {
      if (!this.session) throw new HuddleError('Not signed in', { httpStatus: 401, path });
      secret = this.session.accessSecret;
      headers.Authorization = `Basic ${base64(`${this.session.uid}:${this.session.accessToken}`)}`;
    } else if (auth === 'bearer') {
      headers.Authorization = `Bearer ${opts.token}`;
    }
    const body = signed(params, secret);
    let url = this.base + path;
    const init = { method, headers };
    if (method === 'GET' || method === 'HEAD') {
      const qs = new URLSearchParams();
      for (const [k, v] of Object.entries(body)) qs.append(k, paramText(v));
      url += (url.includes('?') ? '&' : '?') + qs.toString();
    } else {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(url, init);
    } catch (e) {
      return { result: 0, message: `Network error: ${e.message || e}`, status: 0, httpStatus: 0 };
    }
    let env;
    try {
      env = await res.json();
    } catch {
      env = null;
    }
    if (!env || typeof env !== 'object' || !('status' in env)) {
      env = { result: 0, message: `HTTP ${res.status} ${res.statusText || ''}`.trim(), status: 0 };
    }
    env.httpStatus = res.status;
    if (res.status === 401 && auth === 'session' && this.onUnauthorized) this.onUnauthorized(env);
    return env;
  }

  get(path, params, opts) { return this.call('GET', path, params, opts); }
  post(path, params, opts) { return this.call('POST', path, params, opts); }
  put(path, params, opts) { return this.call('PUT', path, params, opts); }
  delete(path, params, opts) { return this.call('DELETE', path, params, opts); }

  /** The /ws URL with query credentials, signed with the session's secret (fresh each time). */
  wsUrl() {
    const s = this.session;
    if (!s) throw new HuddleError('Not signed in', { httpStatus: 401 });
    const q = signed({ uid: s.uid, accessToken: s.accessToken }, s.accessSecret);
    return wsOrigin(this.base) + '/ws?' + new URLSearchParams(Object.entries(q).map(([k, v]) => [k, paramText(v)]));
  }
}

/** ws:// or wss:// origin for `base` ('' = this page). */
export function wsOrigin(base = '') {
  const origin = base || (typeof location !== 'undefined' ? location.origin : '');
  return origin.replace(/^http/, 'ws');
}

// ---------------------------------------------------------------- realtime

const ROOM_EVENT = /^room\./;

/**
 * The /ws connection. Emits through `onEvent(frame)`:
 * - every server event (room.*, message.new, room.invited, event.*, club.*);
 * - `{type: 'room.snapshot', roomId, seq, room}` after a join, or a resume that could not recover;
 * - `{type: 'room.detached', roomId, code, message}` when a resume after a reconnect failed
 *   (e.g. `not_member` after the grace period: take a new token and join again).
 * `onState(state)`: 'connecting' | 'open' | 'reconnecting' | 'stopped'.
 * Room events are delivered in seq order; a gap triggers `resume`.
 */
export class Realtime {
  constructor(client, { onEvent = () => {}, onState = () => {}, WebSocketImpl = globalThis.WebSocket } = {}) {
    this.client = client;
    this.onEvent = onEvent;
    this.onState = onState;
    this.WebSocketImpl = WebSocketImpl;
    this.ws = null;
    this.state = 'stopped';
    this.nextId = 1;
    this.pending = new Map(); // id -> {resolve, reject, timer, op}
    this.rooms = new Map(); // roomId -> {lastSeq, syncing}
    this.attempt = 0;
    this.retryTimer = null;
    this.heartbeat = null;
    this.lastFrameAt = 0;
    this.hello = null;
    this.openWaiters = [];
    /** Counters for the console and tests. */
    this.stats = { connects: 0, resumes: 0, recovered: 0, snapshots: 0, gaps: 0 };
  }

  setState(state) {
    if (this.state !== state) {
      this.state = state;
      this.onState(state);
    }
  }

  /** Connects (and keeps reconnecting until stop()). Resolves when the first hello arrives. */
  start() {
    if (this.state === 'stopped') {
      this.setState('connecting');
      this.connect();
    }
    return this.ready();
  }

  /** Resolves once the connection is open (hello received). */
  ready() {
    if (this.state === 'open') return Promise.resolve();
    return new Promise((resolve) => this.openWaiters.push(resolve));
  }

  stop() {
    this.setState('stopped');
    clearTimeout(this.retryTimer);
    clearInterval(this.heartbeat);
    this.rooms.clear();
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      try { ws.close(1000); } catch { /* already closed */ }
    }
    this.failPending('stopped');
  }

  connect() {
    let url;
    try {
      url = this.client.wsUrl();
    } catch (e) {
      this.stop();
      return;
    }
    const ws = new this.WebSocketImpl(url);
    this.ws = ws;
    let opened = false;
    ws.onmessage = (msg) => {
      if (this.ws !== ws) return;
      this.lastFrameAt = Date.now();
      let frame;
      try { frame = JSON.parse(msg.data); } catch { return; }
      if (frame.type === 'hello') {
        opened = true;
        this.attempt = 0;
        this.hello = frame;
        this.stats.connects += 1;
        this.startHeartbeat(frame.pingIntervalMs || 10000);
        this.setState('open');
        this.resumeRooms();
        const waiters = this.openWaiters.splice(0);
        waiters.forEach((w) => w());
        return;
      }
      this.handle(frame);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      clearInterval(this.heartbeat);
      this.failPending('disconnected');
      if (this.state === 'stopped') return;
      this.scheduleReconnect(ev.code, opened);
    };
    ws.onerror = () => { /* onclose follows */ };
  }

  async scheduleReconnect(code, opened) {
    this.setState('reconnecting');
    this.attempt += 1;
    // A refused upgrade is invisible to browsers (close 1006 before hello).
    // After a few, ask REST whether the session still holds.
    if (!opened && this.attempt >= 3 && this.client.session) {
      const env = await this.client.envelope('GET', '/user/message/unread_total', {});
      if (env.httpStatus === 401) {
        this.stop();
        return;
      }
    }
    const clientBug = [1002, 1007, 1008, 1009].includes(code);
    const base = code === 1001 ? 1000 : 500;
    const delay = Math.min(15000, base * 2 ** Math.min(this.attempt - 1, 5)) * (clientBug ? 4 : 1);
    this.retryTimer = setTimeout(() => {
      if (this.state !== 'stopped') this.connect();
    }, delay * (0.75 + Math.random() * 0.5));
  }

  startHeartbeat(intervalMs) {
    clearInterval(this.heartbeat);
    // The browser answers the server's pings; the app-level ping lets us notice
    // a dead connection that never reports a close.
    this.heartbeat = setInterval(() => {
      const ws = this.ws;
      if (!ws) return;
      if (Date.now() - this.lastFrameAt > intervalMs * 3) {
        try { ws.close(4000, 'no answer'); } catch { /* ignore */ }
        if (ws.onclose) ws.onclose({ code: 1006 });
        return;
      }
      this.request('ping', {}, { timeout: intervalMs * 2 }).catch(() => {});
    }, intervalMs);
  }

  failPending(reason) {
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(Object.assign(new Error(reason), { code: reason }));
    }
    this.pending.clear();
  }

  /** Sends `{op, id, ...fields}`; resolves with the ack (or pong), rejects with the error frame. */
  request(op, fields = {}, { timeout = 10000 } = {}) {
    const ws = this.ws;
    if (!ws || this.state !== 'open') {
      return Promise.reject(Object.assign(new Error('not connected'), { code: 'disconnected' }));
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(Object.assign(new Error(`${op}: no answer`), { code: 'timeout' }));
      }, timeout);
      this.pending.set(id, { resolve, reject, timer, op });
      ws.send(JSON.stringify({ op, id, ...fields }));
    });
  }

  /** join a room (after POST /room/{roomId}/token); emits a room.snapshot. */
  async join(roomId) {
    const ack = await this.request('join', { roomId });
    this.rooms.set(roomId, { lastSeq: ack.seq, syncing: false });
    this.onEvent({ type: 'room.snapshot', roomId, seq: ack.seq, room: ack.room });
    return ack;
  }

  /** Leaves the room (on every device) and stops following it. */
  async leave(roomId) {
    this.rooms.delete(roomId);
    if (this.state === 'open') return this.request('leave', { roomId });
    return null;
  }

  /** Stops following a room locally (no op sent). */
  forget(roomId) { this.rooms.delete(roomId); }

  async resume(roomId) {
    const r = this.rooms.get(roomId);
    if (!r) return;
    r.syncing = true;
    try {
      this.stats.resumes += 1;
      const ack = await this.request('resume', { roomId, lastSeq: r.lastSeq });
      if (this.rooms.get(roomId) !== r) return;
      if (ack.recovered) {
        this.stats.recovered += 1;
        r.lastSeq = ack.seq - (ack.replayed || 0);
      } else {
        this.stats.snapshots += 1;
        r.lastSeq = ack.seq;
        this.onEvent({ type: 'room.snapshot', roomId, seq: ack.seq, room: ack.room });
      }
    } catch (e) {
      if (e.code === 'disconnected' || e.code === 'timeout' || e.code === 'stopped') return; // retried on reconnect
      this.rooms.delete(roomId);
      this.onEvent({ type: 'room.detached', roomId, code: e.code, message: e.message });
    } finally {
      r.syncing = false;
    }
  }

  resumeRooms() {
    for (const roomId of this.rooms.keys()) this.resume(roomId);
  }

  handle(frame) {
    if ((frame.type === 'ack' || frame.type === 'error' || frame.type === 'pong') && frame.id !== undefined) {
      const p = this.pending.get(frame.id);
      if (p) {
        this.pending.delete(frame.id);
        clearTimeout(p.timer);
        if (frame.type === 'error') {
          p.reject(Object.assign(new Error(frame.message || frame.code), { code: frame.code, frame }));
        } else {
          p.resolve(frame);
        }
        return;
      }
    }
    if (frame.type === 'ack' || frame.type === 'pong') return;
    if (frame.type === 'error') {
      this.onEvent(frame);
      return;
    }
    if (ROOM_EVENT.test(frame.type) && frame.roomId && typeof frame.seq === 'number') {
      const r = this.rooms.get(frame.roomId);
      if (r) {
        if (frame.seq <= r.lastSeq) return; // already seen (replay overlap)
        if (frame.seq !== r.lastSeq + 1) {
          this.stats.gaps += 1;
          if (!r.syncing) this.resume(frame.roomId);
          return;
        }
        r.lastSeq = frame.seq;
        const ends = frame.type === 'room.closed' ||
          (frame.type === 'room.member_removed' && frame.uid === this.client.session?.uid) ||
          (frame.type === 'room.member_left' && frame.uid === this.client.session?.uid);
        if (ends) this.rooms.delete(frame.roomId);
      }
    }
    this.onEvent(frame);
  }
}

// ---------------------------------------------------------------- small helpers

/** Escapes text for innerHTML. */
export function escapeHtml(text) {
  return String(text ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

/** Up to two initials of a name, for avatars without a picture. */
export function initials(name) {
  const words = String(name || '?').trim().split(/\s+/).filter(Boolean);
  if (!words.length) return '?';
  const chars = words.length > 1 ? [words[0], words[1]].map((w) => Array.from(w)[0]) : Array.from(words[0]).slice(0, 2);
  return chars.join('').toUpperCase();
}

/** A stable hue (0..359) for a string, so fallback avatars keep their colour. */
export function hue(text) {
  let h = 0;
  for (const ch of String(text || '')) h = (h * 31 + ch.codePointAt(0)) % 360;
  return h;
}

/** The placeholder the /app/ client stores when a user gives no avatar (shown as initials). */
export const PLACEHOLDER_AVATAR = '/web/assets/default-avatar.svg';
/** The placeholder the /app/ client stores when a club gets no cover. */
export const PLACEHOLDER_COVER = '/web/assets/default-cover.svg';

/** True when `url` is a real picture (not empty, not the placeholder avatar). */
export function hasPicture(url) {
  return typeof url === 'string' && /^(https?:\/\/|\/)/.test(url) && !url.endsWith(PLACEHOLDER_AVATAR);
}

/** An avatar element: the picture, or the initials on a coloured disc when there is none or it fails. */
export function avatarElement(doc, { avatar, nickname, uid }, size = 40) {
  const el = doc.createElement('span');
  el.className = 'hd-avatar';
  el.style.width = el.style.height = `${size}px`;
  el.style.fontSize = `${Math.round(size * 0.4)}px`;
  el.style.background = `hsl(${hue(uid || nickname)} 55% 45%)`;
  el.textContent = initials(nickname);
  el.setAttribute('aria-hidden', 'true');
  if (hasPicture(avatar)) {
    const img = doc.createElement('img');
    img.alt = '';
    img.loading = 'lazy';
    img.decoding = 'async';
    img.referrerPolicy = 'no-referrer';
    img.onload = () => { el.textContent = ''; el.appendChild(img); };
    img.src = avatar;
  }
  return el;
}
