// Raw-WebSocket check of the Socket.IO peer: speaks the Engine.IO v4 /
// Socket.IO v5 frames by hand (listed at the top of server.js) with the `ws`
// package, the way a load generator without a Socket.IO client would:
// open packet, namespace connect, join with ack, emit, room.event on both
// clients, a server ping answered with a pong, leave.
//
//   node benches/peers/socketio/check.js ws://127.0.0.1:9001
//
// SIO_CHECK_PING_MS: the pingInterval the server was started with
// (SIO_PING_INTERVAL_MS); if set, also wait for an Engine.IO ping "2", answer
// "3" and check the socket is still served afterwards. smoke.sh sets both.
"use strict";

const WebSocket = require("ws");

const base = (process.argv[2] || "ws://127.0.0.1:9001").replace(/\/+$/, "");
const room = `r-${process.pid}`;
const pingMs = Number(process.env.SIO_CHECK_PING_MS || 0);

function client(uid) {
  const url = `${base}/socket.io/?EIO=4&transport=websocket&uid=${encodeURIComponent(uid)}`;
  const ws = new WebSocket(url, { perMessageDeflate: false });
  const queue = [];
  const waiters = [];
  const c = { ws, pings: 0 };
  ws.on("message", (data) => {
    const frame = data.toString();
    if (frame === "2") {
      // Engine.IO ping: must be answered with "3" or the server drops us.
      c.pings += 1;
      console.log(`ok ${uid} engine ping: 2 -> 3`);
      return ws.send("3");
    }
    const w = waiters.shift();
    if (w) w(frame);
    else queue.push(frame);
  });
  ws.on("error", (e) => fail(`${uid}: ${e.message}`));
  c.send = (frame) => ws.send(frame);
  c.next = () =>
    queue.length ? Promise.resolve(queue.shift()) : new Promise((resolve) => waiters.push(resolve));
  return c;
}

// Expects a frame `prefix` + JSON (or exactly `prefix` when want is undefined);
// returns the parsed JSON.
function expect(label, frame, prefix, want) {
  if (!frame.startsWith(prefix)) fail(`${label}: expected ${prefix}..., got ${frame}`);
  const rest = frame.slice(prefix.length);
  if (want === undefined) {
    if (rest !== "") fail(`${label}: expected exactly ${prefix}, got ${frame}`);
    console.log(`ok ${label}: ${frame}`);
    return null;
  }
  const got = JSON.parse(rest);
  if (!match(got, want)) fail(`${label}: expected ${prefix}${JSON.stringify(want)}, got ${frame}`);
  console.log(`ok ${label}: ${frame}`);
  return got;
}

// `want`'s keys must match (recursively); other keys of `got` may be anything.
function match(got, want) {
  if (want === null || typeof want !== "object") return got === want;
  if (got === null || typeof got !== "object") return false;
  return Object.keys(want).every((k) => match(got[k], want[k]));
}

function fail(why) {
  console.error(`FAIL socket.io ${base}: ${why}`);
  process.exit(1);
}

async function handshake(c) {
  const open = expect("open", await c.next(), "0", { upgrades: [] });
  if (typeof open.sid !== "string" || !(open.pingInterval > 0)) fail(`bad open packet`);
  c.send("40");
  const conn = expect("namespace connect", await c.next(), "40", {});
  if (typeof conn.sid !== "string") fail("no socket sid");
}

async function main() {
  setTimeout(() => fail("timed out"), 5000 + pingMs * 2).unref();
  const a = client("alice");
  const b = client("bob");
  await handshake(a);
  await handshake(b);

  a.send(`421["join",{"roomId":"${room}"}]`);
  expect("join a ack", await a.next(), "431", [{ roomId: room, seq: 0 }]);
  b.send(`4217["join",{"roomId":"${room}"}]`);
  expect("join b ack", await b.next(), "4317", [{ roomId: room, seq: 0 }]);

  b.send(`425["ping",{"id":9}]`);
  expect("ping ack", await b.next(), "435", [{ id: 9 }]);

  const t = Date.now();
  a.send(`42["emit",{"roomId":"${room}","from":"alice","t":${t}}]`);
  const want = ["room.event", { roomId: room, seq: 1, from: "alice", t }];
  expect("event a", await a.next(), "42", want);
  expect("event b", await b.next(), "42", want);

  // The ping ack tells b's leave went through before a emits (two
  // connections are not ordered with each other).
  b.send(`42["leave",{"roomId":"${room}"}]`);
  b.send(`426["ping",{"id":10}]`);
  expect("ping ack after leave", await b.next(), "436", [{ id: 10 }]);
  a.send(`42["emit",{"roomId":"${room}","from":"alice","t":${t + 1}}]`);
  expect("event a after leave", await a.next(), "42", ["room.event", { seq: 2, t: t + 1 }]);
  b.send(`428["ping",{"id":12}]`); // b must see this ack, not seq 2
  expect("b not in room", await b.next(), "438", [{ id: 12 }]);

  if (pingMs > 0) {
    while (b.pings === 0) await new Promise((r) => setTimeout(r, 20));
    b.send(`427["ping",{"id":11}]`);
    expect("ping ack after engine ping", await b.next(), "437", [{ id: 11 }]);
  }

  a.ws.close();
  b.ws.close();
  console.log(`PASS socket.io ${base}`);
}

main().catch((e) => fail(e.stack || String(e)));
