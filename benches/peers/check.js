// Smoke check of a peer that speaks the plain workload protocol (node-ws,
// actix-broadcast): two raw WebSocket clients connect and get "hello", both
// join a fresh room (ack seq 0), one pings, one emits, and both must receive
// room.event seq 1 with the same "from" and "t". Then one leaves, the other
// emits again and must get seq 2 alone; an unknown op must answer an error.
//
//   node benches/peers/check.js ws://127.0.0.1:9001
//
// Uses the `ws` package installed in node-ws/ (run `npm ci` there first).
"use strict";

const path = require("node:path");
const { createRequire } = require("node:module");
const WebSocket = createRequire(path.join(__dirname, "node-ws", "package.json"))("ws");

const base = (process.argv[2] || "ws://127.0.0.1:9001").replace(/\/+$/, "");
const room = `r-${process.pid}`;

function client(uid) {
  const ws = new WebSocket(`${base}/ws?uid=${encodeURIComponent(uid)}`, { perMessageDeflate: false });
  const queue = [];
  const waiters = [];
  ws.on("message", (data) => {
    const msg = JSON.parse(data.toString());
    const w = waiters.shift();
    if (w) w(msg);
    else queue.push(msg);
  });
  ws.on("error", (e) => fail(`${uid}: ${e.message}`));
  return {
    ws,
    opened: new Promise((resolve) => ws.once("open", resolve)),
    send: (obj) => ws.send(JSON.stringify(obj)),
    next: () =>
      queue.length
        ? Promise.resolve(queue.shift())
        : new Promise((resolve) => waiters.push(resolve)),
  };
}

function expect(label, got, want) {
  for (const [k, v] of Object.entries(want)) {
    if (got[k] !== v) fail(`${label}: expected ${k}=${JSON.stringify(v)}, got ${JSON.stringify(got)}`);
  }
  console.log(`ok ${label}: ${JSON.stringify(got)}`);
}

function fail(why) {
  console.error(`FAIL ${base}: ${why}`);
  process.exit(1);
}

async function main() {
  setTimeout(() => fail("timed out"), 5000).unref();
  const a = client("alice");
  const b = client("bob");
  await Promise.all([a.opened, b.opened]);
  expect("hello a", await a.next(), { type: "hello", uid: "alice" });
  expect("hello b", await b.next(), { type: "hello", uid: "bob" });

  a.send({ op: "join", roomId: room, id: 1 });
  expect("join a", await a.next(), { type: "ack", op: "join", id: 1, roomId: room, seq: 0 });
  b.send({ op: "join", roomId: room, id: 7 });
  expect("join b", await b.next(), { type: "ack", op: "join", id: 7, roomId: room, seq: 0 });

  b.send({ op: "ping", id: 42 });
  expect("pong", await b.next(), { type: "pong", id: 42 });

  const t = Date.now();
  a.send({ op: "emit", roomId: room, from: "alice", t });
  const want = { type: "room.event", roomId: room, seq: 1, from: "alice", t };
  expect("event a", await a.next(), want);
  expect("event b", await b.next(), want);

  // The pong tells b's leave went through before a emits (two connections
  // are not ordered with each other).
  b.send({ op: "leave", roomId: room });
  b.send({ op: "ping", id: 43 });
  expect("pong after leave", await b.next(), { type: "pong", id: 43 });
  a.send({ op: "emit", roomId: room, from: "alice", t: t + 1 });
  expect("event a after leave", await a.next(), { type: "room.event", seq: 2, t: t + 1 });
  b.send({ op: "ping", id: 44 }); // b must see this pong, not seq 2
  expect("b not in room", await b.next(), { type: "pong", id: 44 });

  a.send({ op: "dance" });
  expect("error", await a.next(), { type: "error" });

  a.ws.close();
  b.ws.close();
  console.log(`PASS ${base}`);
}

main().catch((e) => fail(e.stack || String(e)));
