// huddle /app/: a small live-room client for developers and hosts, on the
// public REST API and the /ws realtime protocol only.
//
// Routes (location.hash): #/ home, #/room/<roomId>, #/inbox.

import {
  Client, Realtime, Codes, HuddleError, avatarElement,
  PLACEHOLDER_AVATAR, PLACEHOLDER_COVER,
} from '/web/assets/huddle.js';

const SESSION_KEY = 'huddle.session';
const $ = (testid, root = document) => root.querySelector(`[data-testid="${testid}"]`);
const form = (id) => document.getElementById(id);

const client = new Client({ onUnauthorized: () => signedOut('Your session has expired. Please sign in again.') });
const realtime = new Realtime(client, { onEvent, onState: renderConnection });

// For the browser console (and the browser tests): window.huddle.realtime, .client, .state.
const state = {
  me: null, // profile {uid, nickname, avatar, bio}
  clubs: [], // clubResult[]
  room: null, // the open room, see openRoom()
  pendingMobile: null,
};

window.huddle = { client, realtime, state };

// ------------------------------------------------------------ utilities

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) node.append(c);
  return node;
}

function toast(text, { type = 'info', action = null, timeout = 6000 } = {}) {
  const box = $('toasts');
  const node = el('div', { class: `toast ${type}`, 'data-testid': type === 'error' ? 'toast-error' : 'toast', 'data-type': type, role: type === 'error' ? 'alert' : 'status' },
    el('span', { class: 'grow', text }),
    action ? el('button', { type: 'button', class: 'secondary', text: action.label, onclick: () => { node.remove(); action.run(); } }) : null,
    el('button', { type: 'button', class: 'ghost', 'aria-label': 'dismiss', text: '×', onclick: () => node.remove() }));
  box.append(node);
  while (box.children.length > 5) box.firstElementChild.remove();
  if (timeout) setTimeout(() => node.remove(), timeout);
  return node;
}

function fail(e) {
  console.warn(e);
  if (e instanceof HuddleError && e.code === Codes.PROFILE_NOT_INITIALISED && e.business) {
    show('profile');
    return;
  }
  if (e instanceof HuddleError && e.httpStatus === 401) return; // handled by onUnauthorized
  toast(e.message || String(e), { type: 'error' });
}

/** Runs an async handler for a form or button, disabling it meanwhile. */
function busy(node, fn) {
  return async (ev) => {
    if (ev && ev.preventDefault) ev.preventDefault();
    const buttons = node.tagName === 'FORM' ? node.querySelectorAll('button') : [node];
    buttons.forEach((b) => { b.disabled = true; });
    try {
      await fn(ev);
    } catch (e) {
      fail(e);
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  };
}

function absolute(path) { return new URL(path, location.origin).href; }

function show(view) {
  document.body.dataset.view = view;
  for (const v of document.querySelectorAll('.view')) v.hidden = v.id !== `view-${view}`;
  const loggedIn = !!client.session;
  $('me').hidden = !loggedIn || !state.me;
  $('logout').hidden = !loggedIn;
  $('inbox-open').hidden = !loggedIn || !state.me;
}

// ------------------------------------------------------------ session

function saveSession(s) {
  client.session = s;
  if (s) localStorage.setItem(SESSION_KEY, JSON.stringify(s));
  else localStorage.removeItem(SESSION_KEY);
}

function loadSession() {
  try {
    const s = JSON.parse(localStorage.getItem(SESSION_KEY) || 'null');
    if (s && s.uid && s.accessToken && s.accessSecret && (!s.expireTime || s.expireTime > Date.now())) return s;
  } catch { /* ignore */ }
  localStorage.removeItem(SESSION_KEY);
  return null;
}

function signedOut(message) {
  if (!client.session) return;
  realtime.stop();
  saveSession(null);
  state.me = null;
  state.room = null;
  show('login');
  if (message) $('login-status').textContent = message;
}

async function afterLogin() {
  $('me-uid').textContent = client.session.uid;
  try {
    state.me = await client.get(`/user/${client.session.uid}/profile`);
  } catch (e) {
    if (e instanceof HuddleError && e.business && (e.code === Codes.PROFILE_NOT_INITIALISED || e.code === Codes.USER_NOT_FOUND)) {
      show('profile');
      return;
    }
    throw e;
  }
  $('me-nickname').textContent = state.me.nickname;
  realtime.start();
  refreshUnread();
  route();
}

// ------------------------------------------------------------ login & profile

form('form-captcha').addEventListener('submit', busy(form('form-captcha'), async () => {
  const f = form('form-captcha');
  const params = { countryCode: f.countryCode.value.trim(), mobile: f.mobile.value.trim() };
  $('login-status').textContent = '';
  const env = await client.envelope('POST', '/account/captcha', params, { auth: 'none' });
  $('login-status').textContent = env.message || '';
  if (env.status !== 1) throw new HuddleError(env.message, { code: env.result, httpStatus: env.httpStatus });
  state.pendingMobile = params;
  form('form-login').captcha.focus();
}));

form('form-login').addEventListener('submit', busy(form('form-login'), async () => {
  const f = form('form-captcha');
  const params = {
    countryCode: f.countryCode.value.trim(),
    mobile: f.mobile.value.trim(),
    captcha: form('form-login').captcha.value.trim(),
  };
  const env = await client.envelope('POST', '/account/login/captcha', params, { auth: 'none' });
  $('login-status').textContent = env.message || '';
  if (env.status !== 1) throw new HuddleError(env.message, { code: env.result, httpStatus: env.httpStatus });
  saveSession({ ...env.result });
  form('form-login').reset();
  await afterLogin();
}));

form('form-profile').addEventListener('submit', busy(form('form-profile'), async () => {
  const f = form('form-profile');
  const params = {
    nickname: f.nickname.value.trim(),
    avatar: f.avatar.value.trim() || absolute(PLACEHOLDER_AVATAR),
    bio: f.bio.value.trim(),
  };
  try {
    await client.post('/user/profile/init', params);
  } catch (e) {
    if (!(e instanceof HuddleError && e.code === Codes.PROFILE_ALREADY_INITIALISED)) throw e;
  }
  await afterLogin();
}));

$('logout').addEventListener('click', busy($('logout'), async () => {
  try {
    await client.post('/account/logout', {});
  } catch (e) {
    console.warn('logout', e);
  }
  signedOut('Signed out.');
}));

// ------------------------------------------------------------ home: clubs

async function loadClubs() {
  const page = await client.get('/club', { count: 100 });
  state.clubs = page.list.map((item) => item.clubResult);
  renderClubs();
}

function renderClubs() {
  const list = $('club-list');
  list.replaceChildren(...state.clubs.map((c) => el('li', { 'data-testid': `club-item-${c.clubId}`, 'data-club-id': c.clubId },
    clubCover(c.cover),
    el('div', { class: 'grow' },
      el('div', { class: 'strong', text: c.name }),
      el('div', { class: 'muted small' }, `${c.memberTotal} member${c.memberTotal === 1 ? '' : 's'} · `, el('code', { class: 'uid', text: c.clubId }))),
    el('a', { href: `/s/club/${c.clubId}`, target: '_blank', rel: 'noopener', class: 'small', 'data-testid': `club-share-${c.clubId}`, text: 'share' }))));
  if (!state.clubs.length) list.append(el('li', { class: 'muted', text: 'No clubs yet: create one or join one by id.' }));
  const select = form('form-room').clubId;
  const chosen = select.value;
  select.replaceChildren(el('option', { value: '', text: '— pick a club —' }),
    ...state.clubs.map((c) => el('option', { value: c.clubId, text: c.name })));
  if (chosen && state.clubs.some((c) => c.clubId === chosen)) select.value = chosen;
  else if (state.clubs.length) select.value = state.clubs[0].clubId;
}

function clubCover(url) {
  const img = el('img', { class: 'cover', alt: '', src: url && /^(https?:\/\/|\/)/.test(url) ? url : PLACEHOLDER_COVER, referrerpolicy: 'no-referrer' });
  img.addEventListener('error', () => { img.src = PLACEHOLDER_COVER; }, { once: true });
  return img;
}

form('form-club').addEventListener('submit', busy(form('form-club'), async () => {
  const f = form('form-club');
  const club = await client.post('/club', { name: f.name.value.trim(), cover: f.cover.value.trim() || absolute(PLACEHOLDER_COVER) });
  f.reset();
  toast(`Club “${club.name}” created`);
  await loadClubs();
  form('form-room').clubId.value = club.clubId;
}));

form('form-join-club').addEventListener('submit', busy(form('form-join-club'), async () => {
  const f = form('form-join-club');
  const club = await client.post(`/club/${f.clubId.value.trim()}/join`, {});
  f.reset();
  toast(`Joined “${club.name}”`);
  await Promise.all([loadClubs(), loadRooms()]);
}));

$('club-refresh').addEventListener('click', busy($('club-refresh'), loadClubs));

// ------------------------------------------------------------ home: rooms

async function loadRooms() {
  const page = await client.get('/room', { count: 50 });
  const list = $('room-list');
  list.replaceChildren(...page.list.map((item) => {
    const r = item.roomResult;
    return el('li', { 'data-testid': `room-item-${r.roomId}`, 'data-room-id': r.roomId },
      el('div', { class: 'grow' },
        el('div', { class: 'strong', text: r.name }),
        el('div', { class: 'muted small', text: `${r.inviteOnly ? 'invite only' : (r.clubResult ? r.clubResult.name : '')} · ${r.memberTotal ?? 0} in the room` })),
      el('a', { class: 'button', href: `#/room/${r.roomId}`, 'data-testid': `room-enter-${r.roomId}`, text: 'Enter' }));
  }));
  if (!page.list.length) list.append(el('li', { class: 'muted', text: 'No open rooms in your clubs.' }));
}

form('form-room').addEventListener('submit', busy(form('form-room'), async () => {
  const f = form('form-room');
  const inviteOnly = f.inviteOnly.checked ? 1 : 0;
  const params = { name: f.name.value.trim(), inviteOnly };
  if (!inviteOnly) {
    if (!f.clubId.value) throw new Error('Pick a club for a public room (or make it invite only).');
    params.clubId = f.clubId.value;
  }
  const room = await client.post('/room', params);
  f.name.value = '';
  location.hash = `#/room/${room.roomId}`;
}));

form('form-open-room').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const f = form('form-open-room');
  location.hash = `#/room/${f.roomId.value.trim()}`;
  f.reset();
});

$('room-refresh').addEventListener('click', busy($('room-refresh'), loadRooms));

// ------------------------------------------------------------ home: people & events

form('form-card').addEventListener('submit', busy(form('form-card'), async () => {
  const f = form('form-card');
  const env = await client.envelope('POST', `/user/${f.uid.value.trim()}/card`, {});
  if (env.status !== 1) throw new HuddleError(env.message, { code: env.result, httpStatus: env.httpStatus });
  toast(env.message || 'Card sent');
  f.reset();
}));

form('form-event').addEventListener('submit', busy(form('form-event'), async () => {
  const f = form('form-event');
  const eventTime = new Date(f.eventTime.value).getTime();
  if (!Number.isFinite(eventTime)) throw new Error('Pick a time.');
  const uids = f.members.value.split(/[\s,]+/).filter(Boolean);
  const event = await client.post('/event', {
    name: f.name.value.trim(),
    desc: f.desc.value.trim(),
    eventTime,
    memberUidList: uids.length ? uids : [client.session.uid],
  });
  f.reset();
  toast(`Event “${event.name}” scheduled`);
  await loadEvents();
}));

async function loadEvents() {
  const page = await client.get('/event', { count: 20 });
  const fmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  $('event-list').replaceChildren(...page.list.map(({ eventResult: e }) => el('li', { 'data-testid': `event-item-${e.eventId}` },
    el('div', { class: 'grow' },
      el('div', { class: 'strong', text: e.name }),
      el('div', { class: 'muted small', text: `${fmt.format(new Date(e.eventTime))}${e.eventTimeStatus ? ' · started' : ''}` })),
    e.roomId ? el('a', { class: 'button', href: `#/room/${e.roomId}`, text: 'Room' }) : null,
    el('a', { href: `/s/event/${e.eventId}`, target: '_blank', rel: 'noopener', class: 'small', 'data-testid': `event-share-${e.eventId}`, text: 'share' }))));
}

async function loadHome() {
  const link = $('profile-share-link');
  link.href = `/s/profile/${client.session.uid}`;
  link.textContent = absolute(link.getAttribute('href'));
  const results = await Promise.allSettled([loadClubs(), loadRooms(), loadEvents()]);
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) fail(failed.reason);
}

// ------------------------------------------------------------ inbox

async function refreshUnread(total) {
  if (total === undefined) {
    try { total = await client.get('/user/message/unread_total'); } catch { return; }
  }
  const badge = $('unread');
  badge.textContent = String(total);
  badge.hidden = !total;
}

async function loadInbox() {
  const page = await client.get('/user/message', { count: 50 });
  const fmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'short', timeStyle: 'short' });
  $('inbox-list').replaceChildren(...page.list.map(({ userMessageResult: m }) => {
    const room = /^chaoqer:\/\/room\/([0-9a-f]{32})$/.exec(m.messageBody?.url || '');
    return el('li', { class: m.unread ? 'unread' : '', 'data-testid': `message-${m.messageId}` },
      el('div', { class: 'grow' },
        el('div', { class: 'strong', text: m.messageBody?.title || '' }),
        el('div', { class: 'small', text: m.messageBody?.content || '' }),
        el('div', { class: 'muted small', text: fmt.format(new Date(m.createTime)) })),
      room ? el('a', { class: 'button', href: `#/room/${room[1]}`, text: 'Open' }) : null);
  }));
  if (!page.list.length) $('inbox-list').append(el('li', { class: 'muted', text: 'No messages.' }));
  refreshUnread();
}

$('inbox-open').addEventListener('click', () => { location.hash = '#/inbox'; });

// ------------------------------------------------------------ room

/**
 * state.room: {roomId, name, host, clubName, members: Map(uid -> member),
 * closed, notice, token, seq, joining}
 */
async function openRoom(roomId) {
  if (state.room && state.room.roomId !== roomId) await leaveRoomQuietly(state.room);
  const room = { roomId, name: '', host: '', clubName: '', members: new Map(), closed: false, notice: '', token: '', seq: 0, shareLink: '' };
  state.room = room;
  show('room');
  renderRoom();
  try {
    const info = await client.get(`/room/${roomId}`);
    if (state.room !== room) return;
    room.name = info.name;
    room.host = info.uid;
    room.inviteOnly = info.inviteOnly;
    room.clubName = info.clubResult ? info.clubResult.name : '';
    renderRoom();
    await enterRoom(room);
  } catch (e) {
    if (state.room !== room) return;
    if (e instanceof HuddleError && e.business && e.code === Codes.ROOM_NOT_FOUND) {
      room.closed = true;
      room.notice = 'This room does not exist or has ended.';
      renderRoom();
      return;
    }
    room.notice = e.message;
    renderRoom();
    fail(e);
  }
}

/** Takes a voice token (admits us as a member) and joins over the WebSocket. */
async function enterRoom(room) {
  const t = await client.post(`/room/${room.roomId}/token`, {});
  if (state.room !== room) return;
  room.token = t.token;
  await realtime.start();
  if (state.room !== room) return;
  await realtime.join(room.roomId);
}

async function leaveRoomQuietly(room) {
  realtime.forget(room.roomId);
  if (!room.closed && !room.gone) {
    try { await realtime.leave(room.roomId); } catch { /* best effort */ }
  }
}

function applyRoomEvent(f) {
  const room = state.room;
  if (!room || f.roomId !== room.roomId) return false;
  const me = client.session.uid;
  if (typeof f.seq === 'number') room.seq = f.seq;
  switch (f.type) {
    case 'room.snapshot': {
      const r = f.room || {};
      room.members = new Map((r.members || []).map((m) => [m.uid, { ...m }]));
      if (r.name) room.name = r.name;
      if (r.uid) room.host = r.uid;
      room.gone = false;
      break;
    }
    case 'room.member_joined':
      room.members.set(f.member.uid, { ...f.member });
      break;
    case 'room.member_left':
      room.members.delete(f.uid);
      if (f.uid === me) { room.gone = true; room.notice = f.reason === 'timeout' ? 'You were disconnected from the room.' : 'You left the room.'; }
      break;
    case 'room.member_removed':
      room.members.delete(f.uid);
      if (f.uid === me) { room.gone = true; room.removed = true; room.notice = 'The host removed you from this room.'; }
      break;
    case 'room.hand_raised':
    case 'room.hand_lowered': {
      const m = room.members.get(f.uid);
      if (m) m.handRaised = f.type === 'room.hand_raised' ? 1 : 0;
      break;
    }
    case 'room.speaker_added':
    case 'room.speaker_removed': {
      const m = room.members.get(f.uid);
      if (m) {
        m.allowLive = f.type === 'room.speaker_added' ? 1 : 0;
        if (m.allowLive) m.handRaised = 0;
      }
      if (f.uid === me) {
        // New privileges come with a new token.
        client.post(`/room/${room.roomId}/token`, {}).then((t) => { room.token = t.token; renderRoom(); }).catch(() => {});
      }
      break;
    }
    case 'room.closed':
      room.closed = true;
      room.notice = '';
      break;
    case 'room.detached':
      if (f.code === 'not_member' && !room.closed && !room.gone) {
        // The grace period passed while we were away: take a new token and join again.
        enterRoom(room).catch(fail);
        return true;
      }
      if (f.code === 'not_found') room.closed = true;
      else { room.gone = true; room.notice = f.message || f.code; }
      break;
    default:
      return false;
  }
  renderRoom();
  return true;
}

function isHost(room) { return room && room.host === client.session?.uid; }

function renderRoom() {
  const room = state.room;
  if (!room) return;
  const me = client.session.uid;
  const host = isHost(room);
  const mine = room.members.get(me);
  $('room-title').textContent = room.name || '…';
  $('room-meta').textContent = [room.clubName && `Club: ${room.clubName}`, room.inviteOnly ? 'invite only' : '', host ? 'You are the host' : (mine && mine.allowLive ? 'You are a speaker' : '')].filter(Boolean).join(' · ');
  $('room-id').textContent = room.roomId;
  $('room-seq').textContent = String(room.seq);
  $('room-token').textContent = room.token;
  const status = $('room-status');
  const live = !room.closed && !room.gone && !!mine;
  status.dataset.state = room.closed ? 'closed' : room.gone ? 'left' : live ? 'live' : 'connecting';
  status.textContent = room.closed ? 'Closed' : room.gone ? 'Not in room' : live ? 'Live' : 'Joining…';
  status.className = `pill ${room.closed ? 'ended' : live ? 'live' : ''}`;
  $('room-closed').hidden = !room.closed;
  const notice = $('room-notice');
  notice.hidden = !room.notice;
  notice.textContent = room.notice;
  const active = live;
  $('raise-hand').hidden = !active || host || !!(mine && (mine.handRaised || mine.allowLive));
  $('lower-hand').hidden = !active || !(mine && mine.handRaised);
  $('leave-room').hidden = !active;
  $('rejoin-room').hidden = !room.gone || !!room.removed || room.closed;
  $('close-room').hidden = !host || room.closed;
  $('share-room').hidden = room.closed;
  $('share-box').hidden = !room.shareLink;
  $('share-link').href = room.shareLink || '#';
  $('share-link').textContent = room.shareLink || '';
  form('form-invite').hidden = !active;

  const members = [...room.members.values()];
  members.sort((a, b) => rank(b, room) - rank(a, room) || (a.joinedAt || 0) - (b.joinedAt || 0));
  // Once we are out of the room its events stop: do not show a stale list.
  const shown = room.closed || room.gone ? [] : members;
  $('member-count').textContent = room.closed || room.gone ? '' : `(${members.length})`;
  $('member-list').replaceChildren(...shown.map((m) => memberItem(m, room, host, me)));
}

function rank(m, room) { return m.uid === room.host ? 3 : m.allowLive ? 2 : m.handRaised ? 1 : 0; }

function memberItem(m, room, host, me) {
  const isHostMember = m.uid === room.host;
  const speaker = !!m.allowLive && !isHostMember;
  const controls = host && !isHostMember && !room.closed ? el('span', { class: 'actions' },
    speaker
      ? el('button', { type: 'button', class: 'small secondary', 'data-testid': `demote-${m.uid}`, text: 'Move to audience', onclick: hostOp('speaker_remove', m.uid) })
      : el('button', { type: 'button', class: 'small', 'data-testid': `promote-${m.uid}`, text: 'Invite to speak', onclick: hostOp('speaker_add', m.uid) }),
    el('button', { type: 'button', class: 'small danger', 'data-testid': `kick-${m.uid}`, text: 'Remove', onclick: hostOp('member_remove', m.uid) })) : null;
  return el('li', {
    'data-testid': `member-${m.uid}`, 'data-uid': m.uid,
    'data-host': isHostMember ? '1' : '0', 'data-speaker': speaker || isHostMember ? '1' : '0', 'data-hand': m.handRaised ? '1' : '0',
  },
  avatarElement(document, m, 44),
  el('div', { class: 'grow' },
    el('div', { class: 'strong' }, m.nickname || m.uid.slice(0, 8), m.uid === me ? el('span', { class: 'muted', text: ' (you)' }) : null),
    el('div', { class: 'badges' },
      isHostMember ? el('span', { class: 'badge host', 'data-testid': 'badge-host', text: 'host' }) : null,
      speaker ? el('span', { class: 'badge speaker', 'data-testid': 'badge-speaker', text: 'speaker' }) : null,
      !isHostMember && !speaker ? el('span', { class: 'badge', text: 'listener' }) : null,
      m.handRaised ? el('span', { class: 'badge hand', 'data-testid': 'badge-hand', text: '✋ hand raised' }) : null)),
  controls);
}

function hostOp(op, uid) {
  return async (ev) => {
    const button = ev.currentTarget;
    button.disabled = true;
    try {
      await realtime.request(op, { roomId: state.room.roomId, uid });
    } catch (e) {
      if (e.code === 'disconnected' || e.code === 'timeout') {
        // Same action over REST while the socket reconnects.
        const rid = state.room.roomId;
        if (op === 'speaker_add') await client.post(`/room/${rid}/speaker/${uid}`, {});
        else if (op === 'speaker_remove') await client.delete(`/room/${rid}/speaker/${uid}`, {});
        else await client.post(`/room/${rid}/remove/${uid}`, {});
      } else {
        fail(e);
      }
    } finally {
      button.disabled = false;
    }
  };
}

async function handOp(op) {
  try {
    await realtime.request(op, { roomId: state.room.roomId });
  } catch (e) {
    fail(e);
  }
}

$('raise-hand').addEventListener('click', busy($('raise-hand'), () => handOp('raise_hand')));
$('lower-hand').addEventListener('click', busy($('lower-hand'), () => handOp('lower_hand')));

$('leave-room').addEventListener('click', busy($('leave-room'), async () => {
  const room = state.room;
  await leaveRoomQuietly(room);
  room.gone = true;
  state.room = null;
  location.hash = '#/';
}));

$('rejoin-room').addEventListener('click', busy($('rejoin-room'), async () => {
  const room = state.room;
  room.gone = false;
  room.notice = '';
  renderRoom();
  await enterRoom(room);
}));

$('close-room').addEventListener('click', busy($('close-room'), async () => {
  const room = state.room;
  await client.post(`/room/${room.roomId}/close`, {});
  room.closed = true;
  renderRoom();
}));

$('share-room').addEventListener('click', busy($('share-room'), async () => {
  const room = state.room;
  const roomCacheId = await client.post(`/room/${room.roomId}/cache`, {});
  room.shareLink = absolute(`/s/room/${roomCacheId}`);
  renderRoom();
  try { await navigator.clipboard?.writeText(room.shareLink); } catch { /* not allowed here */ }
}));

form('form-invite').addEventListener('submit', busy(form('form-invite'), async () => {
  const f = form('form-invite');
  const uid = f.uid.value.trim();
  const env = await client.envelope('POST', `/room/${state.room.roomId}/invite/${uid}`, {});
  if (env.status !== 1) {
    if (env.httpStatus === 403) {
      toast(`${env.message}. To invite someone you need their card or a shared club.`, { type: 'error', timeout: 9000 });
      return;
    }
    throw new HuddleError(env.message, { code: env.result, httpStatus: env.httpStatus });
  }
  toast(env.message || 'Invited');
  f.reset();
}));

// ------------------------------------------------------------ realtime events

function onEvent(f) {
  if (f.type && (f.type.startsWith('room.') && f.type !== 'room.invited')) {
    applyRoomEvent(f);
    return;
  }
  switch (f.type) {
    case 'room.invited':
      toast(`${f.inviter?.nickname || 'Someone'} invited you to “${f.roomName}”`, {
        type: 'invite', timeout: 15000, action: { label: 'Join', run: () => { location.hash = `#/room/${f.roomId}`; } },
      });
      break;
    case 'message.new':
      refreshUnread(f.unreadTotal);
      if (f.message?.originPushType !== 2) { // invites already have their own toast
        toast(`${f.message?.messageBody?.title || 'New message'}${f.message?.messageBody?.content ? ': ' + f.message.messageBody.content : ''}`, { type: 'message' });
      }
      if (document.body.dataset.view === 'inbox') loadInbox().catch(fail);
      break;
    case 'event.reminder':
      toast(`Reminder: “${f.name}” is starting`, { type: 'message' });
      break;
    case 'event.started':
      toast(`“${f.name}” has started`, { type: 'message', action: { label: 'Join', run: () => { location.hash = `#/room/${f.roomId}`; } } });
      break;
    case 'error':
      console.warn('realtime error', f);
      break;
    default:
      break;
  }
}

function renderConnection(s) {
  const node = $('ws-state');
  node.dataset.state = s;
  node.title = `realtime: ${s}`;
  node.textContent = s === 'open' ? '' : s === 'reconnecting' ? 'reconnecting…' : '';
  if (s === 'open' && document.body.dataset.view === 'home') loadRooms().catch(() => {});
}

// ------------------------------------------------------------ routing

function route() {
  if (!client.session) { show('login'); return; }
  if (!state.me) return;
  const hash = location.hash || '#/';
  const room = /^#\/room\/([0-9a-f]{32})$/.exec(hash);
  if (room) {
    if (!state.room || state.room.roomId !== room[1]) openRoom(room[1]);
    else show('room');
    return;
  }
  if (state.room) {
    const old = state.room;
    state.room = null;
    leaveRoomQuietly(old);
  }
  if (hash === '#/inbox') {
    show('inbox');
    loadInbox().catch(fail);
    return;
  }
  show('home');
  loadHome();
}

window.addEventListener('hashchange', route);

// ------------------------------------------------------------ start

const saved = loadSession();
if (saved) {
  client.session = saved;
  afterLogin().catch((e) => { fail(e); if (!state.me) show('login'); });
} else {
  show('login');
}
