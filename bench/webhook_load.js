// Signed webhook load for bench/webhook.py: posts pre-signed requests (read from a JSON file) in rotation at a
// steady overall rate (or as fast as the connections allow), then prints one JSON line: requests/s, latency
// percentiles, errors, and the CPU this generator used.
//
//   node bench/webhook_load.js requests.json <url> <connections> <seconds> <rate|0> [first]
//
// requests.json: [{"path": "...", "body": "...", "signature": "..."}, ...]
// FIRST: the index of the first request posted (runs continue where the last stopped, so an inbound text's
// MessageSid is posted once, as from Twilio, not repeated as a retry in every run).
//
// At a rate, the load is open: request i is due at start + i / rate, whatever the server is doing, and its
// latency runs from that due time to the end of the answer, so a request that waited for a free connection
// (the server was slow) counts the wait. Autocannon's own rate limit sent each connection's whole quota for a
// second at the start of that second (a burst of `rate` requests every second, not a steady rate) and added
// synthetic samples at 1 ms steps to every latency (its coordinated-omission correction divides 1 by the
// per-connection rate in requests/s and takes the result as milliseconds), which inflated every percentile.
// At rate 0 each connection posts its next request as soon as the previous one is answered (closed loop).
'use strict'
const fs = require('fs')
const net = require('net')

const [file, url, connections, seconds, rate, first] = process.argv.slice(2)
const signed = JSON.parse(fs.readFileSync(file, 'utf8'))
const target = new URL(url)
// A URL with a path (the bare view) takes every request there; otherwise each goes to its own path.
const fixedPath = target.pathname !== '/' ? target.pathname : null
const perSecond = Number(rate)
const durationMs = Number(seconds) * 1000
let next = Number(first || 0)
const latencies = []
let errors = 0
let sent = 0
let answered = 0

function requestBytes () {
  const item = signed[next++ % signed.length]
  const body = Buffer.from(item.body)
  const head = `POST ${fixedPath || item.path} HTTP/1.1\r\nHost: ${target.host}\r\n` +
    'Content-Type: application/x-www-form-urlencoded\r\n' +
    `Content-Length: ${body.length}\r\nX-Twilio-Signature: ${item.signature}\r\n\r\n`
  return Buffer.concat([Buffer.from(head, 'latin1'), body])
}

// One kept-alive connection posting one request at a time (plain sockets: node's http client costs the
// generator several times the CPU, which a 2-core machine takes from the server).
class Connection {
  constructor (onIdle) {
    this.onIdle = onIdle
    this.busy = false
    this.open()
  }

  open () {
    this.buffer = Buffer.alloc(0)
    this.socket = net.connect({ host: target.hostname, port: Number(target.port) || 80 })
    this.socket.setNoDelay(true)
    this.socket.on('data', (chunk) => this.read(chunk))
    this.socket.on('error', () => {})
    this.socket.on('close', () => {
      if (this.busy) this.answer(0)
      if (!finished) this.open()
    })
  }

  post (dueAt) {
    this.busy = true
    this.dueAt = dueAt
    sent++
    this.socket.write(requestBytes())
  }

  read (chunk) {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk
    const headEnd = this.buffer.indexOf('\r\n\r\n')
    if (headEnd < 0) return
    const head = this.buffer.toString('latin1', 0, headEnd)
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(head)
    let total = headEnd + 4 + (length ? Number(length[1]) : 0)
    if (!length && /\r\ntransfer-encoding:\s*chunked/i.test(head)) {
      // Chunks until the empty one: each is a hexadecimal size line, the data, CRLF.
      for (;;) {
        const lineEnd = this.buffer.indexOf('\r\n', total)
        if (lineEnd < 0) return
        const size = parseInt(this.buffer.toString('latin1', total, lineEnd), 16)
        total = lineEnd + 2 + size + 2
        if (size === 0) break
      }
    }
    if (this.buffer.length < total) return
    this.buffer = this.buffer.subarray(total)
    this.answer(Number(head.slice(9, 12)))
    if (/\r\nconnection:\s*close/i.test(head)) this.socket.destroy()
  }

  answer (status) {
    this.busy = false
    answered++
    if (status >= 200 && status < 300) latencies.push(performance.now() - this.dueAt)
    else errors++
    this.onIdle(this)
  }
}

const cpuStart = process.cpuUsage()
const start = performance.now()
const end = start + durationMs

let finished = false

function finish () {
  if (finished) return
  finished = true
  const wall = (performance.now() - start) / 1000
  const cpu = process.cpuUsage(cpuStart)
  latencies.sort((a, b) => a - b)
  const at = (q) => latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] : 0
  console.log(JSON.stringify({
    requests: sent,
    ok: latencies.length,
    errors,
    per_second: latencies.length / wall,
    p50_ms: at(0.5),
    p90_ms: at(0.9),
    p99_ms: at(0.99),
    max_ms: latencies.length ? latencies[latencies.length - 1] : 0,
    generator_cpu_s: (cpu.user + cpu.system) / 1e6,
    wall_s: wall
  }))
}

function maybeFinish () {
  if (answered === sent && performance.now() >= end) {
    finish()
    for (const connection of pool) connection.socket.destroy()
  }
}

const waiting = [] // due times of requests waiting for a free connection (open loop)
const idle = []
const pool = []
let due = 0 // requests due so far (open loop)
const total = Math.ceil((durationMs * perSecond) / 1000)

function onIdle (connection) {
  if (perSecond > 0) {
    if (waiting.length) connection.post(waiting.shift())
    else idle.push(connection)
  } else if (performance.now() < end) {
    connection.post(performance.now())
  }
  maybeFinish()
}

for (let i = 0; i < Number(connections); i++) pool.push(new Connection(onIdle))

if (perSecond > 0) {
  // Open loop: every millisecond or so, post what has come due; a request finding no free connection waits,
  // its clock already running.
  idle.push(...pool)
  const tick = () => {
    const now = performance.now()
    const dueNow = Math.min(Math.floor(((Math.min(now, end) - start) * perSecond) / 1000) + 1, total)
    for (; due < dueNow; due++) {
      const dueAt = start + (due * 1000) / perSecond
      if (idle.length) idle.shift().post(dueAt)
      else waiting.push(dueAt)
    }
    if (now < end) setTimeout(tick, 1)
    else maybeFinish()
  }
  tick()
} else {
  // Closed loop: every connection posts its next request as soon as the last is answered.
  for (const connection of pool) connection.post(performance.now())
}
