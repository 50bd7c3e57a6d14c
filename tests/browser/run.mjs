// Browser tests for huddle's web pages: the /app/ live-room client and the H5
// share pages, in Debian Chromium driven by playwright-core, against the real
// server binary on a fresh SQLite file.
//
//   node tests/browser/run.mjs
//
// Environment:
//   HUDDLE_BIN  server binary (default target/debug/huddle, relative to the repo root)
//   HUDDLE_URL  use an already running server at this origin instead of starting one
//               (it must have the test numbers below configured)
//   CHROMIUM    browser executable (default /usr/bin/chromium)
//
// Screenshots (full page PNG) of every step and the server log go to target/browser/.
// Exits non-zero when any scenario fails.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import { Client, HuddleError } from '../../web/assets/huddle.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const outDir = path.join(repo, 'target/browser');
const TOTAL_BUDGET_MS = 90_000;
const WAIT_MS = 10_000;

// Test numbers: country code 86 + mobile, with their fixed codes.
const USERS = {
  a: { countryCode: '86', mobile: '13800000001', code: '111111', nickname: 'Alice Host', bio: 'Hosts the Friday jam' },
  b: { countryCode: '86', mobile: '13800000002', code: '222222', nickname: 'Bob Member', bio: '' },
  c: { countryCode: '86', mobile: '13800000003', code: '333333', nickname: '陈 Chen', bio: '' },
};
const TEST_NUMBERS = Object.values(USERS).map((u) => `${u.countryCode}${u.mobile}:${u.code}`).join(',');

const started = Date.now();
const log = (...a) => console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s]`, ...a);

class TestFailure extends Error {}
function check(cond, message) {
  if (!cond) throw new TestFailure(message);
}

// ------------------------------------------------------------ server

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// Two more origins for H5 pages hosted elsewhere: the first is listed in
// HUDDLE_CORS_ORIGINS, the second is not.
const otherOrigins = { listed: 0, unlisted: 0 };

async function startServer() {
  otherOrigins.listed = await freePort();
  otherOrigins.unlisted = await freePort();
  if (process.env.HUDDLE_URL) {
    return { base: process.env.HUDDLE_URL.replace(/\/$/, ''), stop: async () => {}, tail: () => '' };
  }
  const bin = path.resolve(repo, process.env.HUDDLE_BIN || 'target/debug/huddle');
  if (!fs.existsSync(bin)) throw new Error(`server binary not found: ${bin} (build it with cargo build --bin huddle, or set HUDDLE_BIN)`);
  const port = await freePort();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'huddle-browser-'));
  const logPath = path.join(outDir, 'server.log');
  const logFile = fs.openSync(logPath, 'w');
  const env = {
    ...process.env,
    HUDDLE_HTTP_ADDR: `127.0.0.1:${port}`,
    HUDDLE_RATE_LIMITS: "off",
    HUDDLE_DATABASE_URL: `sqlite://${path.join(tmp, 'huddle.db')}`,
    HUDDLE_SMS_TEST_NUMBERS: TEST_NUMBERS,
    HUDDLE_LOG_FORMAT: 'json',
    HUDDLE_CORS_ORIGINS: `http://127.0.0.1:${otherOrigins.listed}`,
  };
  const child = spawn(bin, ['serve'], { cwd: repo, env, stdio: ['ignore', logFile, logFile] });
  let exited = null;
  child.on('exit', (code, signal) => { exited = { code, signal }; });
  // Last resort if this process dies some other way: never leave the server running.
  process.on('exit', () => { if (!exited) child.kill('SIGKILL'); });
  const base = `http://127.0.0.1:${port}`;
  const tail = (n = 40) => {
    try {
      return fs.readFileSync(logPath, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
    } catch {
      return '';
    }
  };
  const stop = async () => {
    if (exited) return;
    child.kill('SIGTERM');
    const deadline = Date.now() + 8000;
    while (!exited && Date.now() < deadline) await sleep(50);
    if (!exited) child.kill('SIGKILL');
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited) throw new Error(`server exited before answering /healthz (${JSON.stringify(exited)}):\n${tail()}`);
    try {
      const res = await fetch(`${base}/healthz`);
      if (res.ok) break;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`server did not answer /healthz within 30 s:\n${tail()}`);
    }
    await sleep(100);
  }
  log(`server up at ${base} (log: ${path.relative(repo, logPath)})`);
  return { base, stop, tail };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------ helpers

let shotNo = 0;
async function shot(page, name) {
  shotNo += 1;
  const file = path.join(outDir, `${String(shotNo).padStart(2, '0')}-${name}.png`);
  try {
    await page.screenshot({ path: file, fullPage: true });
  } catch (e) {
    log(`  (screenshot ${name} failed: ${e.message})`);
  }
}

/** Waits until the element with data-testid `id` is visible; fails with `what`. */
async function visible(page, id, what, timeout = WAIT_MS) {
  try {
    await page.getByTestId(id).first().waitFor({ state: 'visible', timeout });
  } catch {
    throw new TestFailure(`${what}: [data-testid=${id}] did not become visible within ${timeout} ms on ${page.url()}`);
  }
}

/** Waits until `fn(arg)` is truthy in the page; fails with `what`. */
async function until(page, what, fn, arg, timeout = WAIT_MS) {
  try {
    await page.waitForFunction(fn, arg, { timeout, polling: 100 });
  } catch (e) {
    throw new TestFailure(`${what} (waited ${timeout} ms on ${page.url()})`);
  }
}

async function attr(page, id, name) {
  return page.getByTestId(id).first().getAttribute(name);
}

async function text(page, id) {
  return (await page.getByTestId(id).first().textContent() || '').trim();
}

/** Signs in through the /app/ login form (and creates the profile on first login). Returns the uid. */
async function openApp(page, base) {
  const res = await page.goto(`${base}/app/`);
  check(res && res.status() === 200, `GET ${base}/app/ answered ${res && res.status()}: the server does not serve the web client`);
}

async function uiLogin(page, base, user) {
  await openApp(page, base);
  await visible(page, 'login-mobile', 'login form');
  const hint = await text(page, 'login-hint');
  check(/test numbers have a fixed code/i.test(hint), `login hint should mention test numbers, got "${hint}"`);
  await page.getByTestId('login-country').fill(user.countryCode);
  await page.getByTestId('login-mobile').fill(user.mobile);
  await page.getByTestId('login-send-code').click();
  await until(page, `captcha for ${user.mobile} should be sent`, () => {
    const s = document.querySelector('[data-testid=login-status]').textContent;
    return s && s.length > 0;
  });
  const status = await text(page, 'login-status');
  check(status.includes('验证码已发送'), `captcha send answered "${status}"`);
  await page.getByTestId('login-code').fill(user.code);
  await page.getByTestId('login-submit').click();
  await until(page, `${user.mobile} should reach the profile or home view after login`, () =>
    ['home', 'profile'].includes(document.body.dataset.view) || !!document.querySelector('[data-testid=toast-error]'));
  const err = await page.getByTestId('toast-error').count();
  check(err === 0, `login failed: ${err && await text(page, 'toast-error')}`);
  if (await page.evaluate(() => document.body.dataset.view) === 'profile') {
    await page.getByTestId('profile-nickname').fill(user.nickname);
    if (user.bio) await page.getByTestId('profile-bio').fill(user.bio);
    await page.getByTestId('profile-submit').click();
    await until(page, `${user.mobile}: home after profile init`, () => document.body.dataset.view === 'home');
  }
  const uid = await text(page, 'me-uid');
  check(/^[0-9a-f]{32}$/.test(uid), `me-uid should show a uid, got "${uid}"`);
  check(await text(page, 'me-nickname') === user.nickname, `nickname shown should be ${user.nickname}`);
  return uid;
}

/** Creates a room from the home view; returns its roomId once the host is live in it. */
async function uiCreateRoom(page, name, hostUid, { inviteOnly = false } = {}) {
  await page.getByTestId('home-link').click();
  await until(page, 'home view', () => document.body.dataset.view === 'home');
  await page.getByTestId('room-name').fill(name);
  await page.getByTestId('room-invite-only').setChecked(inviteOnly);
  await until(page, 'a club to pick for the room', () => document.querySelector('[data-testid=room-club]').value !== '');
  await page.getByTestId('room-create').click();
  await until(page, `room "${name}" should open`, () => /^#\/room\/[0-9a-f]{32}$/.test(location.hash));
  const roomId = (await page.evaluate(() => location.hash)).slice('#/room/'.length);
  await until(page, `host should be live in room "${name}"`, () => document.querySelector('[data-testid=room-status]').dataset.state === 'live');
  await visible(page, `member-${hostUid}`, 'host in the member list');
  check(await attr(page, `member-${hostUid}`, 'data-host') === '1', 'host badge for the creator');
  check(await text(page, 'room-title') === name, `room title should be "${name}"`);
  return roomId;
}

async function restLogin(base, user) {
  const client = new Client({ base });
  await client.post('/account/captcha', { countryCode: user.countryCode, mobile: user.mobile }, { auth: 'none' });
  client.session = await client.post('/account/login/captcha', { countryCode: user.countryCode, mobile: user.mobile, captcha: user.code }, { auth: 'none' });
  try {
    await client.post('/user/profile/init', { nickname: user.nickname, avatar: `${base}/web/assets/default-avatar.svg`, bio: user.bio });
  } catch (e) {
    if (!(e instanceof HuddleError && e.code === 200001)) throw e;
  }
  return client;
}

// A static file server on 127.0.0.1:port for a page hosted on another origin
// than huddle: tests/browser/cross-origin/index.html and web/assets/huddle.js.
async function serveElsewhere(port) {
  const files = {
    '/': ['tests/browser/cross-origin/index.html', 'text/html; charset=utf-8'],
    '/huddle.js': ['web/assets/huddle.js', 'text/javascript; charset=utf-8'],
  };
  const { createServer } = await import('node:http');
  const server = createServer((req, res) => {
    const file = files[new URL(req.url, 'http://x').pathname];
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': file[1] }).end(fs.readFileSync(path.join(repo, file[0])));
  });
  await new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return { origin: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(r)) };
}

function metaContent(page, property) {
  return page.evaluate((p) => document.querySelector(`meta[property="${p}"]`)?.getAttribute('content') ?? null, property);
}

// ------------------------------------------------------------ scenarios

const shared = {}; // filled by the scenarios: uids, clubId, names

const scenarios = [
  ['md5 and signing in the page', async ({ browser, base }) => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await openApp(page, base);
    const r = await page.evaluate(async () => {
      const m = await import('/web/assets/huddle.js');
      return {
        failures: m.md5SelfCheck(),
        empty: m.md5(''),
        abc: m.md5('abc'),
        digest: m.md5('message digest'),
        utf8: m.md5('中文 ✓ 😀'),
        readme: m.signParams({ countryCode: '86', mobile: '13800000000', ts: 1608207590160 }, m.DEFAULT_SECRET),
      };
    });
    check(r.failures.length === 0, `md5 self-check failed: ${JSON.stringify(r.failures)}`);
    // RFC 1321, appendix A.5.
    check(r.empty === 'd41d8cd98f00b204e9800998ecf8427e', `md5("") = ${r.empty}`);
    check(r.abc === '900150983cd24fb0d6963f7d28e17f72', `md5("abc") = ${r.abc}`);
    check(r.digest === 'f96b697d7cb7938d525a2f31aaf161d0', `md5("message digest") = ${r.digest}`);
    check(r.utf8 === 'a279a5518a650596ceb30954dd881878', `md5 of UTF-8 text = ${r.utf8}`);
    // README "Signing a request" example.
    check(r.readme === '49d80eb45ea4d89c692dbc48ed8de534', `README signing example gives ${r.readme}`);
    await shot(page, 'md5-app-login');
    await ctx.close();
  }],

  ['live room: join, hand, speaker, close', async ({ browser, base, contexts }) => {
    const ctxA = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    const ctxB = await browser.newContext({ viewport: { width: 390, height: 844 } });
    contexts.a = ctxA;
    contexts.b = ctxB;
    const a = await ctxA.newPage();
    const b = await ctxB.newPage();
    contexts.pageA = a;
    contexts.pageB = b;
    shared.uidA = await uiLogin(a, base, USERS.a);
    shared.uidB = await uiLogin(b, base, USERS.b);
    await shot(a, 'live-a-home');

    shared.clubName = `Jazz Club ${Date.now() % 10000}`;
    await a.getByTestId('club-name').fill(shared.clubName);
    await a.getByTestId('club-create').click();
    await until(a, 'the new club in A\'s club list', (n) => [...document.querySelectorAll('[data-testid=club-list] li[data-club-id]')].some((li) => li.textContent.includes(n)), shared.clubName);
    shared.clubId = await a.evaluate((n) => [...document.querySelectorAll('[data-testid=club-list] li[data-club-id]')].find((li) => li.textContent.includes(n)).dataset.clubId, shared.clubName);

    const roomName = 'Friday jam';
    const roomId = await uiCreateRoom(a, roomName, shared.uidA);
    await shot(a, 'live-a-room-created');

    await b.getByTestId('club-join-id').fill(shared.clubId);
    await b.getByTestId('club-join').click();
    await visible(b, `club-item-${shared.clubId}`, 'B sees the joined club');
    await visible(b, `room-item-${roomId}`, 'B sees the open room in the room list');
    await shot(b, 'live-b-home');
    check(await b.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), '/app/ fits a 390 px wide screen without horizontal scrolling');
    await b.getByTestId(`room-enter-${roomId}`).click();
    await until(b, 'B live in the room', () => document.querySelector('[data-testid=room-status]').dataset.state === 'live');
    check(await text(b, 'room-title') === roomName, 'B sees the room title');
    await visible(b, `member-${shared.uidA}`, 'B sees the host');

    await visible(a, `member-${shared.uidB}`, 'A sees B appear live');
    await shot(a, 'live-a-sees-b');

    // A's connection drops and B raises a hand meanwhile: A reconnects, resumes and sees it.
    await a.evaluate(() => { window.oldSocket = window.huddle.realtime.ws; window.oldSocket.close(); });
    await b.getByTestId('raise-hand').click();
    await until(a, 'A\'s app reconnects its WebSocket', () => {
      const rt = window.huddle.realtime;
      return rt.state === 'open' && rt.ws && rt.ws !== window.oldSocket;
    });
    await until(a, 'A sees B\'s raised hand', (u) => document.querySelector(`[data-testid=member-${u}]`)?.dataset.hand === '1', shared.uidB);
    const stats = await a.evaluate(() => window.huddle.realtime.stats);
    check(stats.connects >= 2 && stats.recovered >= 1, `A should have resumed with recovered: true, stats ${JSON.stringify(stats)}`);
    await visible(a, `member-${shared.uidB}`, 'B in A\'s list');
    check(await a.getByTestId(`member-${shared.uidB}`).getByTestId('badge-hand').count() === 1, 'hand badge on B in A\'s view');
    await shot(a, 'live-a-sees-hand');

    await a.getByTestId(`promote-${shared.uidB}`).click();
    await until(b, 'B sees the speaker badge on themselves', (u) => document.querySelector(`[data-testid=member-${u}]`)?.dataset.speaker === '1', shared.uidB);
    check(await b.getByTestId(`member-${shared.uidB}`).getByTestId('badge-speaker').count() === 1, 'speaker badge on B in B\'s view');
    check(await b.getByTestId(`member-${shared.uidB}`).getAttribute('data-hand') === '0', 'B\'s hand is lowered on promotion');
    await shot(b, 'live-b-speaker');

    await a.getByTestId('close-room').click();
    await visible(b, 'room-closed', 'B sees the room closed');
    check((await text(b, 'room-closed')).toLowerCase().includes('ended'), 'closed banner text');
    check(await attr(b, 'room-status', 'data-state') === 'closed', 'B\'s room status is closed');
    await shot(b, 'live-b-closed');
    await shot(a, 'live-a-closed');
  }],

  ['share page of a live room', async ({ browser, base, contexts }) => {
    check(contexts.pageA && shared.uidA && shared.uidB && shared.clubId, 'needs the users and club of the previous scenario');
    const a = contexts.pageA;
    const b = contexts.pageB;
    const roomName = `Share me ${Date.now() % 10000}`;
    const roomId = await uiCreateRoom(a, roomName, shared.uidA);
    await a.getByTestId('share-room').click();
    await visible(a, 'share-link', 'share link shown to A');
    const link = await text(a, 'share-link');
    check(new RegExp(`^${base}/s/room/[0-9a-f]{32}$`).test(link), `share link should be ${base}/s/room/<roomCacheId>, got ${link}`);
    await shot(a, 'share-a-link');

    const ctxC = await browser.newContext({ viewport: { width: 360, height: 740 }, locale: 'en-US', isMobile: true, hasTouch: true });
    const c = await ctxC.newPage();
    contexts.c = ctxC;
    const pageRes = await c.goto(link);
    check(pageRes && pageRes.status() === 200, `GET ${link} answered ${pageRes && pageRes.status()}`);
    const og = await metaContent(c, 'og:title');
    check(og === roomName, `og:title should be the room name "${roomName}", got ${JSON.stringify(og)}`);
    for (const p of ['og:description', 'og:image', 'og:url', 'og:type']) {
      check(await metaContent(c, p) !== null, `${p} meta tag present`);
    }
    check(await metaContent(c, 'og:url') === link, 'og:url is the page URL');
    check(await c.evaluate(() => !!document.querySelector('meta[name=viewport]')), 'viewport meta');
    const appLink = await c.getByTestId('open-in-app').getAttribute('href');
    check(appLink === `chaoqer://room/${roomId}`, `open-in-app link should be chaoqer://room/${roomId}, got ${appLink}`);
    await until(c, 'share page shows the live room', () => document.body.dataset.state === 'live');
    check(await text(c, 'share-title') === roomName, 'share page title is the room name');
    await visible(c, `share-member-${shared.uidA}`, 'A in the share page member list');
    check(await attr(c, `share-member-${shared.uidA}`, 'data-host') === '1', 'A is marked host');
    check((await text(c, 'share-from')).includes(USERS.a.nickname), 'sharer (fromMember) shown');
    check((await text(c, 'share-club-name')) === shared.clubName, 'club name shown');
    const noOverflow = await c.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
    check(noOverflow, 'share page fits 360 px without horizontal scrolling');
    await shot(c, 'share-c-room');

    // B joins: the share page shows B without a reload.
    await until(c, 'share page live socket connected', () => document.querySelector('[data-testid=share-live]')?.dataset.live === 'on');
    await b.evaluate((id) => { location.hash = `#/room/${id}`; }, roomId);
    await until(b, 'B live in the shared room', () => document.querySelector('[data-testid=room-status]').dataset.state === 'live');
    await visible(c, `share-member-${shared.uidB}`, 'share page shows B after B joined (no reload)');
    check(await attr(c, 'share-member-count', 'data-count') === '2', 'member count is 2');
    await shot(c, 'share-c-b-joined');

    // A closes: the share page shows the closed state without a reload.
    await a.getByTestId('close-room').click();
    await visible(c, 'share-closed', 'share page shows the room closed (no reload)');
    check((await text(c, 'share-closed')).includes('This room has ended'), 'English closed text');
    await shot(c, 'share-c-closed');
    // Opened afresh, the link of a closed room shows the closed state (and no live socket).
    await c.reload();
    await until(c, 'closed room page after reload', () => document.body.dataset.state === 'closed');
    await visible(c, 'share-closed', 'closed banner after reload');

    // The language toggle switches to Chinese.
    await c.getByTestId('lang-toggle').click();
    check((await text(c, 'share-closed')).includes('活动已结束'), 'Chinese closed text after the toggle');
    await shot(c, 'share-c-closed-zh');
  }],

  ['invite-only room: invite toast, removal, inbox', async ({ contexts }) => {
    check(contexts.pageA && shared.uidA && shared.uidB, 'needs the users of the live-room scenario');
    const a = contexts.pageA;
    const b = contexts.pageB;
    await b.getByTestId('home-link').click();
    const roomName = `Private chat ${Date.now() % 10000}`;
    const roomId = await uiCreateRoom(a, roomName, shared.uidA, { inviteOnly: true });
    check((await text(a, 'room-meta')).includes('invite only'), 'room marked invite only');
    await a.getByTestId('invite-uid').fill(shared.uidB);
    await a.getByTestId('invite-submit').click();
    await until(a, 'A sees the invite confirmed', () => [...document.querySelectorAll('[data-testid=toast]')].some((t) => t.textContent.includes('邀请成功')));
    await until(b, 'B gets an invite toast naming the room', (n) => [...document.querySelectorAll('[data-type=invite]')].some((t) => t.textContent.includes(n) && t.textContent.includes('Alice Host')), roomName);
    await shot(b, 'invite-b-toast');
    await b.locator('[data-type=invite]').filter({ hasText: roomName }).getByRole('button', { name: 'Join' }).click();
    await until(b, 'B live in the invite-only room', () => document.querySelector('[data-testid=room-status]').dataset.state === 'live');
    check(await b.evaluate(() => location.hash) === `#/room/${roomId}`, 'B is in the invited room');
    await visible(a, `member-${shared.uidB}`, 'A sees the invitee join');
    await a.getByTestId(`kick-${shared.uidB}`).click();
    await until(b, 'B is told they were removed', () => /removed/.test(document.querySelector('[data-testid=room-notice]').textContent));
    check(await attr(b, 'room-status', 'data-state') === 'left', 'B no longer in the room');
    await until(a, 'B gone from A\'s member list', (u) => !document.querySelector(`[data-testid=member-${u}]`), shared.uidB);
    await shot(b, 'invite-b-removed');
    await b.getByTestId('inbox-open').click();
    await until(b, 'B\'s inbox lists the invite message', () => document.querySelector('[data-testid=inbox-list]').textContent.includes('有人邀请你参加活动'));
    await shot(b, 'invite-b-inbox');
    await a.getByTestId('close-room').click();
    await visible(a, 'room-closed', 'A sees the private room closed');
  }],

  ['share pages of a club, an event and a profile', async ({ browser, base }) => {
    check(shared.uidA && shared.uidB && shared.clubId, 'needs the users and club of the live-room scenario');
    const api = await restLogin(base, USERS.a);
    const eventTime = Date.now() + 26 * 3600 * 1000;
    const event = await api.post('/event', {
      name: 'Sunday standup',
      desc: 'Weekly check-in, all welcome',
      eventTime,
      memberUidList: [shared.uidA, shared.uidB],
    });
    check(/^[0-9a-f]{32}$/.test(event.eventId), 'event created over REST');

    const zone = 'America/Los_Angeles';
    const ctx = await browser.newContext({ viewport: { width: 360, height: 740 }, locale: 'zh-CN', timezoneId: zone, isMobile: true });
    const page = await ctx.newPage();

    // Club
    await page.goto(`${base}/s/club/${shared.clubId}`);
    await until(page, 'club page ready', () => document.body.dataset.state === 'ready');
    check(await text(page, 'share-title') === shared.clubName, 'club name on the club page');
    check(await attr(page, 'share-member-count', 'data-count') === '2', 'club member count (A and B) is 2');
    check(await metaContent(page, 'og:title') !== null, 'club og:title');
    check((await text(page, 'open-in-app')) === '在 App 中打开', 'Chinese UI for a zh-CN browser');
    await shot(page, 'share-club-zh');

    // Event, in the viewer's time zone.
    await page.goto(`${base}/s/event/${event.eventId}`);
    await until(page, 'event page ready', () => document.body.dataset.state === 'ready');
    check(await text(page, 'share-title') === 'Sunday standup', 'event name');
    check(await text(page, 'share-event-desc') === 'Weekly check-in, all welcome', 'event desc');
    await visible(page, `share-member-${shared.uidA}`, 'event host A listed');
    await visible(page, `share-member-${shared.uidB}`, 'event guest B listed');
    check(await attr(page, 'share-event-status', 'data-started') === '0', 'event not started');
    // Formatted in the viewer's zone: compare with the browser's own ICU told the zone explicitly
    // (Node's ICU may differ in small ways, e.g. spaces).
    const expectIn = (locale) => page.evaluate(([l, z, t]) => new Intl.DateTimeFormat(l, {
      weekday: 'short', year: 'numeric', month: 'long', day: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short', timeZone: z,
    }).format(new Date(t)), [locale, zone, eventTime]);
    const expected = await expectIn('zh-CN');
    const shown = await text(page, 'share-event-time');
    check(shown === expected, `event time in ${zone} should read "${expected}", got "${shown}"`);
    check(/GMT-[78]|PST|PDT/.test(shown), `event time should name the viewer's zone, got "${shown}"`);
    await shot(page, 'share-event-zh');
    await page.getByTestId('lang-toggle').click();
    const shownEn = await text(page, 'share-event-time');
    const expectedEn = await expectIn('en');
    check(shownEn === expectedEn, `English event time should read "${expectedEn}", got "${shownEn}"`);
    check(shownEn.includes(new Intl.DateTimeFormat('en', { timeZone: zone, year: 'numeric' }).format(new Date(eventTime))), 'English event time has the year');
    await shot(page, 'share-event-en');
    // Once the host starts it, the page says so.
    await api.post(`/event/${event.eventId}/start`, {});
    await page.reload();
    await until(page, 'event page ready after start', () => document.body.dataset.state === 'ready');
    check(await attr(page, 'share-event-status', 'data-started') === '1', 'started event shows as started');
    await shot(page, 'share-event-started');

    // Profile
    await page.goto(`${base}/s/profile/${shared.uidA}`);
    await until(page, 'profile page ready', () => document.body.dataset.state === 'ready');
    check(await text(page, 'share-profile-nickname') === USERS.a.nickname, 'profile nickname');
    check(await text(page, 'share-profile-bio') === USERS.a.bio, 'profile bio');
    await shot(page, 'share-profile');

    await ctx.close();
  }],

  ['an H5 page on another origin: CORS for listed origins only', async ({ browser, base }) => {
    check(shared.clubId, 'needs the club of the live-room scenario');
    const api = await restLogin(base, USERS.a);
    const roomName = `Elsewhere ${Date.now() % 10000}`;
    const room = await api.post('/room', { name: roomName, clubId: shared.clubId });
    await api.post(`/room/${room.roomId}/token`, {});
    const cacheId = await api.post(`/room/${room.roomId}/cache`, {});
    const listed = await serveElsewhere(otherOrigins.listed);
    const unlisted = await serveElsewhere(otherOrigins.unlisted);
    const ctx = await browser.newContext({ viewport: { width: 360, height: 740 }, locale: 'en-US', isMobile: true });
    try {
      const page = await ctx.newPage();
      // The listed origin: preflights pass, the page renders the room.
      const calls = [];
      page.on('request', (r) => { if (r.url().startsWith(base)) calls.push(`${r.method()} ${new URL(r.url()).pathname}`); });
      const url = (origin) => `${origin}/?api=${encodeURIComponent(base)}&room=${cacheId}`;
      await page.goto(url(listed.origin));
      await until(page, 'the page on the listed origin renders the room', () => document.body.dataset.state !== 'loading');
      check((await page.evaluate(() => document.body.dataset.state)) === 'ready',
        `the page on ${listed.origin} should render the room, got: ${await text(page, 'xo-error')}`);
      check(await text(page, 'xo-title') === roomName, 'room name from POST /h5/room/{roomCacheId}');
      await visible(page, `xo-member-${shared.uidA}`, 'the host in the member list');
      check(calls.includes('POST /h5/session') && calls.includes(`POST /h5/room/${cacheId}`), `calls made: ${calls.join(', ')}`);
      // Preflights are not page requests: the server's log shows them.
      const preflights = fs.readFileSync(path.join(outDir, 'server.log'), 'utf8').split('\n')
        .filter((l) => l.includes('"method":"OPTIONS"') && l.includes('"path":"/h5/')).map((l) => JSON.parse(l));
      check(preflights.some((l) => l.span.path === '/h5/session' && l.status === 204), `a 204 preflight for /h5/session in the server log, got ${JSON.stringify(preflights)}`);
      await shot(page, 'cors-listed-origin');

      // The unlisted origin: the browser refuses the answer; the page gets a network error.
      const refused = [];
      page.on('console', (m) => { if (/CORS|Access-Control-Allow-Origin/.test(m.text())) refused.push(m.text()); });
      await page.goto(url(unlisted.origin));
      await until(page, 'the page on the unlisted origin gives up', () => document.body.dataset.state !== 'loading');
      check((await page.evaluate(() => document.body.dataset.state)) === 'error', 'the unlisted origin must not render the room');
      check((await text(page, 'xo-error')).startsWith('Network error'), `a browser refusal, got: ${await text(page, 'xo-error')}`);
      check(refused.length > 0, 'Chromium reported a CORS refusal');
      await shot(page, 'cors-unlisted-origin');
    } finally {
      await ctx.close();
      await listed.close();
      await unlisted.close();
      await api.post(`/room/${room.roomId}/close`, {}).catch(() => {});
    }
  }],

  ['share pages of unknown ids: friendly not-found state', async ({ browser, base }) => {
    const ctx = await browser.newContext({ viewport: { width: 360, height: 740 }, locale: 'en-US', isMobile: true });
    const page = await ctx.newPage();
    const missing = '0123456789abcdef0123456789abcdef';
    for (const kind of ['event', 'room', 'club', 'profile']) {
      const res = await page.goto(`${base}/s/${kind}/${missing}`);
      const type = res ? res.headers()['content-type'] || '' : '';
      check(type.startsWith('text/html'), `GET /s/${kind}/<unknown> should answer the HTML share page (any status), got ${res && res.status()} ${type}`);
      await until(page, `unknown ${kind} shows the not-found state`, () => document.body.dataset.state === 'notfound');
      await visible(page, 'share-notfound', `not-found message for an unknown ${kind}`);
      await shot(page, `share-${kind}-notfound`);
    }
    await ctx.close();
  }],
];

// ------------------------------------------------------------ main

async function main() {
  fs.mkdirSync(outDir, { recursive: true });
  for (const f of fs.readdirSync(outDir)) if (f.endsWith('.png')) fs.rmSync(path.join(outDir, f));
  const budget = setTimeout(() => {
    console.error(`browser tests: over the ${TOTAL_BUDGET_MS / 1000} s budget, giving up`);
    cleanup().finally(() => process.exit(2));
  }, TOTAL_BUDGET_MS);
  budget.unref();

  let server = null;
  let browser = null;
  const cleanup = async () => {
    if (browser) await browser.close().catch(() => {});
    browser = null;
    if (server) await server.stop().catch(() => {});
    server = null;
  };
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { cleanup().finally(() => process.exit(130)); });

  const results = [];
  try {
    server = await startServer();
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    const contexts = {};
    // Uncaught errors and console errors in any page are logged (they usually explain a failure).
    const newContext = browser.newContext.bind(browser);
    browser.newContext = async (opts) => {
      const ctx = await newContext(opts);
      ctx.on('page', (p) => {
        p.on('pageerror', (e) => log(`  page error on ${p.url()}: ${e.message}`));
        p.on('console', (m) => { if (m.type() === 'error') log(`  console error on ${p.url()}: ${m.text()}`); });
      });
      return ctx;
    };
    for (const [name, run] of scenarios) {
      const t0 = Date.now();
      log(`▶ ${name}`);
      try {
        await run({ browser, base: server.base, contexts });
        results.push({ name, ok: true, ms: Date.now() - t0 });
        log(`✔ ${name} (${Date.now() - t0} ms)`);
      } catch (e) {
        results.push({ name, ok: false, ms: Date.now() - t0, error: e });
        log(`✘ ${name}: ${e instanceof TestFailure ? e.message : e.stack || e}`);
        for (const ctx of browser.contexts()) {
          for (const p of ctx.pages()) await shot(p, `FAILED-${name.replace(/\W+/g, '-')}`);
        }
      }
    }
  } catch (e) {
    results.push({ name: 'setup', ok: false, error: e });
    log(`✘ setup: ${e.stack || e}`);
  } finally {
    const failed = results.filter((r) => !r.ok);
    if (failed.length && server) {
      console.log('--- last server log lines ---');
      console.log(server.tail(30));
    }
    await cleanup();
    console.log('\nbrowser tests:');
    for (const r of results) console.log(`  ${r.ok ? 'ok  ' : 'FAIL'} ${r.name}${r.ms !== undefined ? ` (${r.ms} ms)` : ''}${r.ok ? '' : ` — ${r.error && r.error.message}`}`);
    console.log(`${results.length - failed.length} passed, ${failed.length} failed, ${((Date.now() - started) / 1000).toFixed(1)} s; screenshots in ${path.relative(repo, outDir)}/`);
    process.exitCode = failed.length || results.length === 0 ? 1 : 0;
  }
}

main();
