// A minimal app for the demo: answers GET /up with 200 on the unix socket (or port) mono hands it.
const http = require('node:http');
const fs = require('node:fs');

const listen = process.env.MONO_LISTEN || process.env.PORT || '3000';
const release = process.env.MONO_RELEASE || 'dev';

const server = http.createServer((req, res) => {
  if (req.url === '/up') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('up\n');
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end(`hello from release ${release}\n`);
});

if (/^\d+$/.test(listen)) server.listen(Number(listen), '127.0.0.1');
else {
  fs.rmSync(listen, { force: true });
  server.listen(listen);
}
process.on('SIGTERM', () => server.close(() => process.exit(0)));
