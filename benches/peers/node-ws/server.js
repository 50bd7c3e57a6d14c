// Benchmark peer "node-ws": the workload protocol (benches/peers/README.md) on
// Node.js and the `ws` package, written the way a small team writes it first:
// one process, one event loop, rooms in a Map, no backpressure handling.
//
//   ws://HOST:PORT/ws?uid=U      -> {"type":"hello","uid":U}
//   {"op":"join","roomId":R,"id":n}   -> {"type":"ack","op":"join","id":n,"roomId":R,"seq":S}
//   {"op":"emit","roomId":R,"from":U,"t":T}
//                                -> every connection in R: {"type":"room.event","roomId":R,"seq":N,"from":U,"t":T}
//   {"op":"leave","roomId":R}    -> (no answer)
//   {"op":"ping","id":n}         -> {"type":"pong","id":n}
//   anything else                -> {"type":"error","message":...}
//
// A room exists while it has members; when the last one leaves, it is dropped
// (its seq starts again from 0). An emit into a room without members is an
// error. Listens on PEER_ADDR (default 127.0.0.1:9001) and prints
// "listening <addr>" once ready. Node cannot raise its own fd limit: run it
// under `ulimit -n 65536` (or more) for tens of thousands of connections.
"use strict";

const http = require("node:http");
const { WebSocketServer, WebSocket } = require("ws");

const [host, port] = splitAddr(process.env.PEER_ADDR || "127.0.0.1:9001");

/** roomId -> { seq: number, members: Set<WebSocket> } */
const rooms = new Map();

const server = http.createServer((req, res) => {
  res.writeHead(404, { "content-type": "text/plain" });
  res.end("not found\n");
});
const wss = new WebSocketServer({ server, path: "/ws", perMessageDeflate: false });

wss.on("connection", (ws, req) => {
  const uid = new URL(req.url, "http://peer").searchParams.get("uid");
  if (!uid) {
    ws.close(1008, "uid required");
    return;
  }
  ws.joined = new Set(); // the room ids this connection is in
  send(ws, { type: "hello", uid });

  ws.on("message", (data, isBinary) => {
    let msg;
    try {
      msg = JSON.parse(isBinary ? "" : data.toString());
    } catch {
      return send(ws, { type: "error", message: "invalid JSON" });
    }
    handle(ws, msg);
  });
  ws.on("close", () => {
    for (const roomId of ws.joined) leave(ws, roomId);
  });
  ws.on("error", () => {}); // "close" follows
});

function handle(ws, msg) {
  const op = msg && msg.op;
  const roomId = msg && msg.roomId;
  if (op === "ping") return send(ws, { type: "pong", id: msg.id });
  if (typeof roomId !== "string" || roomId === "") {
    return send(ws, { type: "error", message: `bad or unknown op: ${JSON.stringify(op)}` });
  }
  switch (op) {
    case "join": {
      let room = rooms.get(roomId);
      if (!room) rooms.set(roomId, (room = { seq: 0, members: new Set() }));
      room.members.add(ws);
      ws.joined.add(roomId);
      return send(ws, { type: "ack", op: "join", id: msg.id, roomId, seq: room.seq });
    }
    case "emit": {
      const room = rooms.get(roomId);
      if (!room) return send(ws, { type: "error", message: "no such room" });
      room.seq += 1;
      // Serialised once, the same string written to every member.
      const frame = JSON.stringify({ type: "room.event", roomId, seq: room.seq, from: msg.from, t: msg.t });
      for (const member of room.members) {
        if (member.readyState === WebSocket.OPEN) member.send(frame);
      }
      return;
    }
    case "leave":
      return leave(ws, roomId);
    default:
      return send(ws, { type: "error", message: `unknown op: ${JSON.stringify(op)}` });
  }
}

function leave(ws, roomId) {
  ws.joined.delete(roomId);
  const room = rooms.get(roomId);
  if (!room) return;
  room.members.delete(ws);
  if (room.members.size === 0) rooms.delete(roomId);
}

function send(ws, obj) {
  if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(obj));
}

function splitAddr(addr) {
  const i = addr.lastIndexOf(":");
  return [addr.slice(0, i).replace(/^\[|\]$/g, ""), Number(addr.slice(i + 1))];
}

server.listen(port, host, () => {
  console.log(`listening ${host}:${server.address().port}`);
});

function shutdown() {
  for (const ws of wss.clients) ws.terminate();
  wss.close();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
