#!/usr/bin/env node
// The reference for bench/http.mjs: a node:http server (the framework smppd's front end uses) that
// parses Kannel's sendsms query and answers 202 at once, storing nothing. Prints "listening <port>".
import http from 'node:http';

const server = http.createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
  const q = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
  const ok = req.url?.startsWith('/cgi-bin/sendsms') && q.get('to') && q.get('username');
  req.resume();
  res.writeHead(ok ? 202 : 400, { 'Content-Type': 'text/html; charset=utf-8' });
  res.end(ok ? '0: Accepted for delivery' : 'bad');
});
server.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
process.on('SIGTERM', () => process.exit(0));
