// Signed webhook load for bench/webhook.py: autocannon posts pre-signed requests (read from a JSON file)
// in rotation at a fixed overall rate (or as fast as the connections allow), then prints one JSON line:
// requests/s, latency percentiles, errors, and the CPU this generator used.
//
//   node bench/webhook_load.js requests.json <url> <connections> <seconds> <rate|0>
//
// requests.json: [{"path": "...", "body": "...", "signature": "..."}, ...]
'use strict'
const fs = require('fs')
const autocannon = require('autocannon')

const [file, url, connections, seconds, rate] = process.argv.slice(2)
const signed = JSON.parse(fs.readFileSync(file, 'utf8'))
// A URL with a path (the bare view) takes every request there; otherwise each goes to its own path.
const fixedPath = new URL(url).pathname !== '/' ? new URL(url).pathname : null
let next = 0
const requests = [{
  method: 'POST',
  setupRequest: (request) => {
    const item = signed[next++ % signed.length]
    request.path = fixedPath || item.path
    request.body = item.body
    request.headers = {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': item.signature
    }
    return request
  }
}]
const options = {
  url,
  connections: Number(connections),
  duration: Number(seconds),
  requests,
  latency: true
}
if (Number(rate) > 0) options.overallRate = Number(rate)
const cpuStart = process.cpuUsage()
const wallStart = process.hrtime.bigint()
autocannon(options, (error, result) => {
  if (error) {
    console.error(error)
    process.exit(1)
  }
  const cpu = process.cpuUsage(cpuStart)
  const wall = Number(process.hrtime.bigint() - wallStart) / 1e9
  const ok = result['2xx']
  console.log(JSON.stringify({
    requests: result.requests.total,
    ok,
    errors: result.errors + result.timeouts + result.non2xx,
    per_second: ok / result.duration,
    p50_ms: result.latency.p50,
    p90_ms: result.latency.p90,
    p99_ms: result.latency.p99,
    max_ms: result.latency.max,
    generator_cpu_s: (cpu.user + cpu.system) / 1e6,
    wall_s: wall
  }))
})
