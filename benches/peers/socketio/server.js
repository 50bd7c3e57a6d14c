// Benchmark peer "socketio": the workload mapped onto Socket.IO 4 rooms, the
// way most teams build it: io.to(room).emit(...) on the default in-memory
// adapter, one Node process. WebSocket transport only, no compression.
//
// Socket.IO events (payloads are JSON objects):
//   "join"  {roomId}        ack -> {roomId, seq}     (seq: the room's current seq, 0 if new)
//   "emit"  {roomId,from,t} -> io.to(roomId).emit("room.event", {roomId, seq, from, t})
//   "leave" {roomId}
//   "ping"  {id}            ack -> {id}              (the workload's ping; Engine.IO has its own, below)
// An emit into a room without members gets an "error" event {message}; a room
// is dropped with its seq when its last member leaves (as in the other peers).
//
// ---- Wire frames for a raw WebSocket client (Engine.IO v4, Socket.IO protocol v5) ----
// Each Engine.IO packet is one WebSocket text frame (no batching on this transport).
//   connect  ws://HOST:PORT/socket.io/?EIO=4&transport=websocket&uid=U
//   server   0{"sid":"<engine sid>","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}
//   client   40                                    (connect to namespace "/")
//   server   40{"sid":"<socket id>"}               (namespace connected; 44{"message":..} if refused, e.g. no uid)
//   client   421["join",{"roomId":"r"}]            (42 = message+EVENT, 1 = ack id chosen by the client)
//   server   431[{"roomId":"r","seq":0}]           (43 = message+ACK, same id, args array)
//   client   42["emit",{"roomId":"r","from":"U","t":123}]   (no ack id: no answer)
//   server   42["room.event",{"roomId":"r","seq":1,"from":"U","t":123}]   (to every socket in r, sender included)
//   client   42["leave",{"roomId":"r"}]
//   client   425["ping",{"id":9}]  -> server 435[{"id":9}]
//   server   2   (Engine.IO ping, every pingInterval) -> client must answer 3 within pingTimeout, else it is closed
//   server   41 / 1 on shutdown (namespace disconnect / engine close)
// Ack ids are any non-negative integer written right after "42"/"43"; a
// payload always follows as a JSON array. check.js exercises exactly these.
//
// Listens on PEER_ADDR (default 127.0.0.1:9001), prints "listening <addr>".
// SIO_PING_INTERVAL_MS / SIO_PING_TIMEOUT_MS override the heartbeat.
// Node cannot raise its own fd limit: run under `ulimit -n 65536` or more.
"use strict";

const http = require("node:http");
const { Server } = require("socket.io");

const [host, port] = splitAddr(process.env.PEER_ADDR || "127.0.0.1:9001");

const httpServer = http.createServer();
const io = new Server(httpServer, {
  transports: ["websocket"],
  perMessageDeflate: false,
  httpCompression: false,
  serveClient: false,
  // Engine.IO heartbeat (Socket.IO defaults 25000 / 20000); smoke.sh shortens it.
  pingInterval: Number(process.env.SIO_PING_INTERVAL_MS || 25000),
  pingTimeout: Number(process.env.SIO_PING_TIMEOUT_MS || 20000),
});

/** roomId -> the room's last seq; entries go with their room. */
const seqs = new Map();
const rooms = io.of("/").adapter.rooms; // roomId -> Set<socket id>
io.of("/").adapter.on("delete-room", (roomId) => seqs.delete(roomId));

io.use((socket, next) => {
  const uid = socket.handshake.query.uid;
  if (typeof uid !== "string" || uid === "") return next(new Error("uid required"));
  socket.data.uid = uid;
  next();
});

io.on("connection", (socket) => {
  socket.on("join", (p, ack) => {
    const roomId = p && p.roomId;
    if (typeof roomId !== "string" || roomId === "") return fail(socket, "bad roomId", ack);
    socket.join(roomId);
    if (typeof ack === "function") ack({ roomId, seq: seqs.get(roomId) || 0 });
  });

  socket.on("emit", (p) => {
    const roomId = p && p.roomId;
    if (typeof roomId !== "string" || !rooms.has(roomId)) return fail(socket, "no such room");
    const seq = (seqs.get(roomId) || 0) + 1;
    seqs.set(roomId, seq);
    // The adapter encodes the packet once and writes it to every socket in the room.
    io.to(roomId).emit("room.event", { roomId, seq, from: p.from, t: p.t });
  });

  socket.on("leave", (p) => {
    if (p && typeof p.roomId === "string") socket.leave(p.roomId);
  });

  socket.on("ping", (p, ack) => {
    if (typeof ack === "function") ack({ id: p && p.id });
  });
  // Leaving every room on disconnect is Socket.IO's own doing.
});

function fail(socket, message, ack) {
  if (typeof ack === "function") ack({ error: message });
  else socket.emit("error", { message });
}

function splitAddr(addr) {
  const i = addr.lastIndexOf(":");
  return [addr.slice(0, i).replace(/^\[|\]$/g, ""), Number(addr.slice(i + 1))];
}

httpServer.listen(port, host, () => {
  console.log(`listening ${host}:${httpServer.address().port}`);
});

function shutdown() {
  io.close(() => process.exit(0)); // disconnects every socket, closes the HTTP server
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
