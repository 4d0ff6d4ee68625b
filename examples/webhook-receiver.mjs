// A webhook receiver that verifies msgmock's Standard Webhooks signatures.
//
//   node examples/webhook-receiver.mjs        # listens on 127.0.0.1:9000
//
// and in the fixtures' settings:
//
//   settings:
//     webhooks:
//       - url: http://127.0.0.1:9000/hooks
//         secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
import { createServer } from 'node:http';
import { createHmac, timingSafeEqual } from 'node:crypto';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const key = Buffer.from(SECRET.replace(/^whsec_/, ''), 'base64');

function verify(headers, body) {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false; // replay window
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest();
  // The header may hold several space-separated signatures ("v1,<base64> v1,<base64>").
  return headers['webhook-signature'].split(' ').some((sig) => {
    const [version, value] = sig.split(',');
    const got = Buffer.from(value ?? '', 'base64');
    return version === 'v1' && got.length === expected.length && timingSafeEqual(got, expected);
  });
}

createServer((req, res) => {
  let body = '';
  req.on('data', (chunk) => (body += chunk));
  req.on('end', () => {
    if (!verify(req.headers, body)) {
      res.writeHead(401).end('bad signature');
      return;
    }
    const event = JSON.parse(body);
    console.log(event.type, event.id, JSON.stringify(event.data));
    res.writeHead(204).end();
  });
}).listen(9000, '127.0.0.1', () => console.log('listening on http://127.0.0.1:9000/hooks'));
