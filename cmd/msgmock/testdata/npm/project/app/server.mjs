// The app under test in the Playwright recipe: one page that sends chat
// messages to the Conversations API at $CHAT_API_URL and shows the
// conversation as it grows. Listens on 127.0.0.1:$PORT.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const api = process.env.CHAT_API_URL;
const port = Number(process.env.PORT);
if (!api || !port) {
  console.error('app/server.mjs needs CHAT_API_URL and PORT');
  process.exit(2);
}
const page = readFileSync(new URL('index.html', import.meta.url), 'utf8').replace('__CHAT_API_URL__', JSON.stringify(api));
createServer((req, res) => {
  if (req.url !== '/') {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(page);
}).listen(port, '127.0.0.1');
