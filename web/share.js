// The H5 share page: one script for /s/room/…, /s/club/…, /s/event/…,
// /s/profile/…. The server renders share.html with the OpenGraph tags and the
// kind/id; this script takes an H5 session, loads the data through the H5
// routes, renders it in Chinese or English, and keeps room pages live over
// /h5/room/{roomCacheId}/live.

import { Client, Codes, HuddleError, avatarElement, wsOrigin } from './assets/huddle.js';

const SESSION_KEY = 'huddle.h5session';
const LANG_KEY = 'huddle.lang';
const NOT_FOUND = new Set([Codes.ROOM_NOT_FOUND, Codes.CLUB_NOT_FOUND, Codes.EVENT_NOT_FOUND, Codes.USER_NOT_FOUND]);

const TEXT = {
  zh: {
    langButton: 'EN',
    loading: '加载中…',
    openApp: '在 App 中打开',
    getApp: '还没有 App？安装后即可加入。',
    live: '直播中',
    ended: '已结束',
    roomEnded: '活动已结束',
    roomEndedHint: '主持人已关闭这个房间。',
    host: '主持人',
    sharedBy: (n) => `${n} 邀请你加入`,
    listening: (n) => `${n} 人在房间里`,
    inRoom: '房间里的人',
    noMembers: '房间里暂时没有人',
    members: (n) => `${n} 位成员`,
    club: '圈子',
    eventHosts: '主持人和嘉宾',
    upcoming: '即将开始',
    started: '已开始',
    startsIn: (t) => `${t}后开始`,
    eventPast: '时间已到',
    notFound: { room: '活动不存在', club: '圈子不存在', event: '日程不存在', profile: '用户不存在' },
    notFoundHint: '链接可能已失效，或者内容已被删除。',
    error: '加载失败',
    retry: '重试',
    reconnecting: '正在重新连接…',
    privateRoom: '私密房间',
    duration: { d: '天', h: '小时', m: '分钟' },
  },
  en: {
    langButton: '中文',
    loading: 'Loading…',
    openApp: 'Open in app',
    getApp: 'No app yet? Install it to join.',
    live: 'Live',
    ended: 'Ended',
    roomEnded: 'This room has ended',
    roomEndedHint: 'The host closed this room.',
    host: 'Host',
    sharedBy: (n) => `${n} invited you`,
    listening: (n) => `${n} in the room`,
    inRoom: 'In the room',
    noMembers: 'Nobody is in the room right now',
    members: (n) => `${n} member${n === 1 ? '' : 's'}`,
    club: 'Club',
    eventHosts: 'Hosts and guests',
    upcoming: 'Upcoming',
    started: 'Started',
    startsIn: (t) => `starts in ${t}`,
    eventPast: 'Starting now',
    notFound: { room: 'Room not found', club: 'Club not found', event: 'Event not found', profile: 'User not found' },
    notFoundHint: 'The link may have expired, or it was deleted.',
    error: 'Could not load this page',
    retry: 'Retry',
    reconnecting: 'Reconnecting…',
    privateRoom: 'Private room',
    duration: { d: 'd', h: 'h', m: 'min' },
  },
};

const body = document.body;
const main = document.getElementById('main');
const openApp = document.getElementById('open-app');
const getApp = document.getElementById('get-app');
const langButton = document.getElementById('lang-toggle');
const kind = body.dataset.kind;
const id = body.dataset.id;
const client = new Client();

const state = {
  lang: pickLang(),
  data: null, // the H5 result
  failure: null, // {notFound: bool, message}
  closed: false,
  live: 'off', // 'off' | 'connecting' | 'on' | 'reconnecting'
};

// ------------------------------------------------------------ language

function pickLang() {
  const saved = safeStorage(localStorage, 'get', LANG_KEY);
  if (saved === 'zh' || saved === 'en') return saved;
  const langs = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || ''];
  return /^zh/i.test(langs[0] || '') ? 'zh' : 'en';
}

function t() { return TEXT[state.lang]; }

function safeStorage(store, op, key, value) {
  try {
    if (op === 'get') return store.getItem(key);
    if (op === 'set') return store.setItem(key, value);
    return store.removeItem(key);
  } catch {
    return null;
  }
}

langButton.hidden = false;
langButton.addEventListener('click', () => {
  state.lang = state.lang === 'zh' ? 'en' : 'zh';
  safeStorage(localStorage, 'set', LANG_KEY, state.lang);
  render();
});

// ------------------------------------------------------------ H5 session

async function newSession() {
  const params = {};
  const code = new URLSearchParams(location.search).get('code');
  if (code) params.code = code;
  let env = await client.envelope('POST', '/h5/session', params, { auth: 'none' });
  if (env.status !== 1 && code && (env.httpStatus === 400 || env.httpStatus === 401)) {
    // WeChat login not configured here, or a stale code: be a guest.
    env = await client.envelope('POST', '/h5/session', {}, { auth: 'none' });
  }
  if (env.status !== 1) throw new HuddleError(env.message, { code: env.result, httpStatus: env.httpStatus, path: '/h5/session' });
  const result = env.result;
  if (code) {
    // A WeChat OAuth code is single use: drop it from the address.
    const url = new URL(location.href);
    url.searchParams.delete('code');
    url.searchParams.delete('state');
    history.replaceState(null, '', url.pathname + url.search + url.hash);
  }
  safeStorage(sessionStorage, 'set', SESSION_KEY, JSON.stringify(result));
  return result;
}

async function session({ fresh = false } = {}) {
  if (!fresh) {
    try {
      const saved = JSON.parse(safeStorage(sessionStorage, 'get', SESSION_KEY) || 'null');
      if (saved && saved.h5Token && (!saved.expireTime || saved.expireTime > Date.now() + 30000)) return saved;
    } catch { /* fall through */ }
  }
  safeStorage(sessionStorage, 'remove', SESSION_KEY);
  return newSession();
}

/** An H5 call with the session's bearer token; one retry with a fresh session on 401. */
async function h5(path, params = {}) {
  let s = await session();
  let env = await client.envelope('POST', path, params, { auth: 'bearer', token: s.h5Token });
  if (env.httpStatus === 401) {
    s = await session({ fresh: true });
    env = await client.envelope('POST', path, params, { auth: 'bearer', token: s.h5Token });
  }
  if (env.status !== 1) throw new HuddleError(env.message, { code: env.result, httpStatus: env.httpStatus, path });
  return env.result;
}

// ------------------------------------------------------------ data

const routes = { room: 'room', club: 'club', event: 'event', profile: 'profile' };

async function load() {
  if (!routes[kind] || !id) {
    state.failure = { notFound: true };
    render();
    return;
  }
  try {
    const data = await h5(`/h5/${routes[kind]}/${encodeURIComponent(id)}`);
    if (kind === 'event' && !Array.isArray(data.memberList) && Array.isArray(data.memberUidList)) {
      // The seed's H5 event has memberList; build it from the profiles if a server leaves it out.
      const people = await Promise.all(data.memberUidList.slice(0, 20).map((uid) =>
        h5(`/h5/profile/${encodeURIComponent(uid)}`).catch(() => null)));
      data.memberList = people.filter(Boolean);
    }
    state.data = data;
    state.failure = null;
    if (kind === 'room' && data.closed) state.closed = true;
  } catch (e) {
    if (state.data && !(e instanceof HuddleError && NOT_FOUND.has(e.code) && e.business)) {
      // Keep showing what we had; a later event or reconnect refreshes it.
      return;
    }
    if (e instanceof HuddleError && e.business && NOT_FOUND.has(e.code)) {
      if (kind === 'room' && state.data) state.closed = true;
      else state.failure = { notFound: true, message: e.message };
    } else {
      state.failure = { notFound: e.httpStatus === 404, message: e.message };
    }
  } finally {
    render();
  }
}

let refetchTimer = null;
function refetchSoon(delay = 150) {
  clearTimeout(refetchTimer);
  // Every viewer gets the same event at once: spread the refetches a little.
  refetchTimer = setTimeout(load, delay ? delay + Math.random() * 100 : 0);
}

// ------------------------------------------------------------ live room

let socket = null;
let attempt = 0;
let retryTimer = null;

async function watch() {
  if (kind !== 'room' || state.closed || socket) return;
  let s;
  try {
    s = await session();
  } catch {
    scheduleWatch();
    return;
  }
  const url = `${wsOrigin()}/h5/room/${encodeURIComponent(id)}/live?h5Token=${encodeURIComponent(s.h5Token)}`;
  const ws = new WebSocket(url);
  socket = ws;
  let gotFrame = false;
  state.live = attempt ? 'reconnecting' : 'connecting';
  ws.onmessage = (msg) => {
    let frame;
    try { frame = JSON.parse(msg.data); } catch { return; }
    if (!gotFrame) {
      gotFrame = true;
      const wasRetry = attempt > 0;
      attempt = 0;
      state.live = 'on';
      renderLive();
      if (wasRetry) refetchSoon(0); // we may have missed events while away
    }
    if (frame.type === 'room.closed') {
      state.closed = true;
      render();
      stopWatching();
      refetchSoon(0);
      return;
    }
    if (typeof frame.type === 'string' && frame.type.startsWith('room.')) refetchSoon();
  };
  ws.onclose = async () => {
    if (socket !== ws) return;
    socket = null;
    if (state.closed) return;
    state.live = 'reconnecting';
    renderLive();
    attempt += 1;
    if (!gotFrame) {
      // Refused before the first frame (browsers do not show the status):
      // a closed room, or a token the server no longer accepts.
      safeStorage(sessionStorage, 'remove', SESSION_KEY);
      await load();
      if (state.closed || (state.failure && state.failure.notFound)) {
        render();
        return;
      }
    }
    scheduleWatch();
  };
  ws.onerror = () => { /* onclose follows */ };
}

function scheduleWatch() {
  clearTimeout(retryTimer);
  const delay = Math.min(30000, 500 * 2 ** Math.min(attempt, 6)) * (0.75 + Math.random() * 0.5);
  retryTimer = setTimeout(watch, delay);
}

function stopWatching() {
  clearTimeout(retryTimer);
  state.live = 'off';
  if (socket) {
    const ws = socket;
    socket = null;
    try { ws.close(1000); } catch { /* ignore */ }
  }
}

// ------------------------------------------------------------ rendering

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('data-') || k === 'href' || k === 'src' || k === 'alt' || k === 'role' || k.startsWith('aria-')) node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) node.append(c);
  return node;
}

function avatar(person, size) {
  return avatarElement(document, person || {}, size);
}

function cover(url, testid, big = false) {
  const img = el('img', { class: big ? 'cover big' : 'cover', alt: '', 'data-testid': testid });
  img.referrerPolicy = 'no-referrer';
  img.loading = 'lazy';
  img.src = url && /^(https?:\/\/|\/)/.test(url) ? url : '/web/assets/default-cover.svg';
  img.onerror = () => { img.onerror = null; img.src = '/web/assets/default-cover.svg'; };
  return img;
}

function formatTime(ms) {
  const fmt = new Intl.DateTimeFormat(state.lang === 'zh' ? 'zh-CN' : 'en', {
    weekday: 'short', year: 'numeric', month: 'long', day: 'numeric',
    hour: '2-digit', minute: '2-digit', timeZoneName: 'short',
  });
  return fmt.format(new Date(ms));
}

function formatDuration(ms) {
  const d = t().duration;
  const mins = Math.max(1, Math.round(ms / 60000));
  const days = Math.floor(mins / 1440), hours = Math.floor((mins % 1440) / 60), m = mins % 60;
  const parts = [];
  if (days) parts.push(`${days}${state.lang === 'zh' ? '' : ' '}${d.d}`);
  if (hours) parts.push(`${hours}${state.lang === 'zh' ? '' : ' '}${d.h}`);
  if (!days && m) parts.push(`${m}${state.lang === 'zh' ? '' : ' '}${d.m}`);
  return parts.join(state.lang === 'zh' ? '' : ' ');
}

function renderRoom(r) {
  const tr = t();
  const nodes = [];
  const members = Array.isArray(r.memberList) ? r.memberList : [];
  const total = Number.isFinite(r.memberTotal) ? r.memberTotal : members.length;
  const closed = state.closed || !!r.closed;
  nodes.push(el('div', { class: 'row' },
    el('span', { class: closed ? 'pill ended' : 'pill live', 'data-testid': 'share-room-status', text: closed ? tr.ended : tr.live }),
    r.inviteOnly ? el('span', { class: 'pill', text: tr.privateRoom }) : null,
    !closed ? el('span', { class: 'muted small', 'data-testid': 'share-member-count', 'data-count': String(total), text: tr.listening(total) }) : null));
  nodes.push(el('h1', { class: 'title', 'data-testid': 'share-title', text: r.name || '' }));
  const club = r.clubResult;
  if (club) {
    nodes.push(el('div', { class: 'club', 'data-testid': 'share-club' },
      cover(club.cover, 'share-club-cover'),
      el('div', { class: 'grow' },
        el('div', { class: 'ellipsis', 'data-testid': 'share-club-name', text: club.name }),
        el('div', { class: 'muted small', text: tr.members(club.memberTotal || 0) }))));
  }
  if (r.fromMember && r.fromMember.uid) {
    nodes.push(el('div', { class: 'row section', 'data-testid': 'share-from', 'data-uid': r.fromMember.uid },
      avatar(r.fromMember, 36),
      el('div', { class: 'grow ellipsis', text: tr.sharedBy(r.fromMember.nickname || '') })));
  }
  if (closed) {
    nodes.push(el('div', { class: 'banner ended', 'data-testid': 'share-closed', role: 'status' },
      el('div', { text: tr.roomEnded }),
      el('div', { class: 'small', text: tr.roomEndedHint })));
  } else {
    const list = el('ul', { class: 'members', 'data-testid': 'share-member-list' });
    const host = members.find((m) => m.uid === r.uid);
    const ordered = host ? [host, ...members.filter((m) => m !== host)] : members;
    for (const m of ordered) {
      list.append(el('li', { 'data-testid': `share-member-${m.uid}`, 'data-uid': m.uid, 'data-host': m.uid === r.uid ? '1' : '0' },
        avatar(m, 56),
        el('span', { class: 'name', text: m.nickname || '' }),
        m.uid === r.uid ? el('span', { class: 'tag', 'data-testid': 'share-host-badge', text: tr.host }) : null));
    }
    nodes.push(el('section', { class: 'section' },
      el('h2', { text: tr.inRoom }),
      members.length ? list : el('p', { class: 'muted', 'data-testid': 'share-member-list', text: tr.noMembers }),
      el('p', { class: 'muted small', id: 'live-status', 'data-testid': 'share-live', 'data-live': state.live })));
  }
  return nodes;
}

function renderClub(c) {
  const tr = t();
  return [
    cover(c.cover, 'share-club-cover', true),
    el('h1', { class: 'title', 'data-testid': 'share-title', text: c.name || '' }),
    el('p', { class: 'muted', 'data-testid': 'share-member-count', 'data-count': String(c.memberTotal || 0), text: tr.members(c.memberTotal || 0) }),
  ];
}

function renderEvent(e) {
  const tr = t();
  const nodes = [];
  const started = e.eventTimeStatus === 1;
  const untilStart = e.eventTime - Date.now();
  let statusText = started ? tr.started : tr.upcoming;
  if (!started) statusText += ' · ' + (untilStart > 0 ? tr.startsIn(formatDuration(untilStart)) : tr.eventPast);
  nodes.push(el('span', { class: started ? 'pill live' : 'pill soon', 'data-testid': 'share-event-status', 'data-started': started ? '1' : '0', text: statusText }));
  nodes.push(el('h1', { class: 'title', 'data-testid': 'share-title', text: e.name || '' }));
  nodes.push(el('p', { class: 'time', 'data-testid': 'share-event-time', 'data-time': String(e.eventTime), text: formatTime(e.eventTime) }));
  if (e.desc) nodes.push(el('p', { class: 'desc', 'data-testid': 'share-event-desc', text: e.desc }));
  const people = Array.isArray(e.memberList) ? e.memberList : [];
  if (people.length) {
    const list = el('ul', { class: 'people', 'data-testid': 'share-event-hosts' });
    for (const p of people) {
      list.append(el('li', { 'data-testid': `share-member-${p.uid}`, 'data-uid': p.uid },
        avatar(p, 44),
        el('div', { class: 'grow' },
          el('div', { class: 'ellipsis', text: p.nickname || '' }),
          p.bio ? el('div', { class: 'bio', text: p.bio }) : null)));
    }
    nodes.push(el('section', { class: 'section' }, el('h2', { text: tr.eventHosts }), list));
  }
  return nodes;
}

function renderProfile(p) {
  return [el('div', { class: 'profile' },
    avatar(p, 96),
    el('h1', { class: 'title', 'data-testid': 'share-profile-nickname', text: p.nickname || '' }),
    p.bio ? el('p', { class: 'bio', 'data-testid': 'share-profile-bio', text: p.bio }) : null)];
}

function renderLive() {
  const node = document.getElementById('live-status');
  if (!node) return;
  node.dataset.live = state.live;
  node.textContent = state.live === 'reconnecting' ? t().reconnecting : '';
}

function render() {
  const tr = t();
  document.documentElement.lang = state.lang === 'zh' ? 'zh-CN' : 'en';
  langButton.textContent = tr.langButton;
  langButton.setAttribute('aria-label', state.lang === 'zh' ? 'Switch to English' : '切换到中文');
  openApp.textContent = tr.openApp;
  // Unknown ids get no app link; a link to "" would only reload this page.
  openApp.hidden = !openApp.getAttribute('href');
  getApp.textContent = tr.getApp;
  let nodes;
  let pageState;
  if (state.failure && !state.data) {
    pageState = state.failure.notFound ? 'notfound' : 'error';
    nodes = state.failure.notFound
      ? [el('div', { class: 'center', 'data-testid': 'share-notfound' },
        el('h1', { class: 'title', text: tr.notFound[kind] || tr.notFound.room }),
        el('p', { class: 'muted', text: tr.notFoundHint }))]
      : [el('div', { class: 'center', 'data-testid': 'share-error' },
        el('h1', { class: 'title', text: tr.error }),
        el('p', { class: 'muted', text: state.failure.message || '' }),
        el('button', { type: 'button', class: 'retry', text: tr.retry, onclick: () => { state.failure = null; render(); load(); } }))];
  } else if (!state.data) {
    pageState = 'loading';
    nodes = [el('p', { class: 'muted', 'data-testid': 'share-loading', text: tr.loading })];
  } else {
    const d = state.data;
    if (kind === 'room') {
      nodes = renderRoom(d);
      pageState = state.closed || d.closed ? 'closed' : 'live';
    } else {
      nodes = kind === 'club' ? renderClub(d) : kind === 'event' ? renderEvent(d) : renderProfile(d);
      pageState = 'ready';
    }
    const name = kind === 'profile' ? d.nickname : d.name;
    if (name) document.title = name;
  }
  body.dataset.state = pageState;
  main.replaceChildren(...nodes);
  renderLive();
}

// ------------------------------------------------------------ WeChat

async function weixin() {
  if (!/MicroMessenger/i.test(navigator.userAgent)) return;
  try {
    const cfg = await h5('/h5/weixin/config', { url: location.href.split('#')[0] });
    const wx = window.wx;
    if (!wx || typeof wx.config !== 'function' || !cfg) return;
    wx.config({
      debug: false,
      appId: cfg.appId,
      timestamp: Number(cfg.timestamp),
      nonceStr: cfg.nonceStr,
      signature: cfg.signature,
      jsApiList: ['updateAppMessageShareData', 'updateTimelineShareData'],
    });
    if (typeof wx.ready === 'function') {
      wx.ready(() => {
        const meta = (p) => document.querySelector(`meta[property="${p}"]`)?.content || '';
        const share = { title: meta('og:title'), desc: meta('og:description'), link: meta('og:url') || location.href.split('#')[0], imgUrl: meta('og:image') };
        try { wx.updateAppMessageShareData?.(share); } catch { /* optional */ }
        try { wx.updateTimelineShareData?.(share); } catch { /* optional */ }
      });
    }
  } catch {
    // Not configured on this server, or not a WeChat session: the page works without it.
  }
}

// ------------------------------------------------------------ start

render();
load().then(() => {
  if (kind === 'room' && state.data && !state.closed) watch();
  weixin();
});
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible' && kind === 'room' && !state.closed) {
    refetchSoon(0);
    if (!socket) { attempt = 0; watch(); }
  }
});
