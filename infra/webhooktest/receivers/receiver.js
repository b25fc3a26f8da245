// The integration guide's Node.js webhook receiver, standard library only.
//
// verifyWebhookSignature below is the guide's snippet, unchanged. Everything
// else stands in for the Express glue the guide wraps it in:
//
//   app.post('/webhooks/payment-api', express.raw({type: 'application/json'}), (req, res) => {
//     const signature = req.headers['x-webhook-signature'];
//     if (!verifyWebhookSignature(req.body, signature, WEBHOOK_SECRET)) {
//       return res.status(401).send('Invalid signature');
//     }
//     const event = JSON.parse(req.body);
//     res.status(200).send('OK');
//   });
//
// and does what Express 4 and body-parser would do: req.body is a Buffer of
// the raw (inflated) body when Content-Type is application/json, {} when the
// type does not match or there is no body; over 100kb is a 413, an unknown
// Content-Encoding a 415; an exception thrown by the handler (timingSafeEqual
// on buffers of different lengths, Buffer.from(undefined) when the header is
// missing, JSON.parse on bad JSON) is a 500.
//
// Protocol (read by infra/webhooktest/snippets.go): the secret is env
// WEBHOOK_SECRET; it listens on 127.0.0.1, port chosen by the OS, and prints
// "listening <port>" once ready; after each POST (any path) it prints one JSON
// line {"verified", "status", "event_id", "webhook_id"} before answering. It
// runs until stdin is closed or it is killed.
'use strict';

const http = require('http');
const zlib = require('zlib');

// --- the guide's snippet, verbatim -------------------------------------------
const crypto = require('crypto');

function verifyWebhookSignature(payload, signature, secret) {
  const expectedSignature = crypto
    .createHmac('sha256', secret)
    .update(payload)
    .digest('hex');
  
  const expected = `sha256=${expectedSignature}`;
  
  return crypto.timingSafeEqual(
    Buffer.from(expected),
    Buffer.from(signature)
  );
}
// --- end of the guide's snippet ----------------------------------------------

const WEBHOOK_SECRET = process.env.WEBHOOK_SECRET;
const RAW_LIMIT = 100 * 1024; // body-parser's default limit, '100kb'

function emit(line) {
  // Writes to pipes are synchronous on POSIX: the line is out on return.
  process.stdout.write(line + '\n');
}

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// express.raw({type: 'application/json'}): calls done(err, body).
function rawBody(req, done) {
  const te = req.headers['transfer-encoding'];
  const cl = req.headers['content-length'];
  const hasBody = te !== undefined || !isNaN(cl);
  const mime = String(req.headers['content-type'] || '').split(';')[0].trim().toLowerCase();
  if (!hasBody || mime !== 'application/json') {
    req.resume();
    req.on('end', () => done(null, {}));
    return;
  }
  const encoding = String(req.headers['content-encoding'] || 'identity').toLowerCase();
  let inflate;
  if (encoding === 'gzip') inflate = zlib.gunzipSync;
  else if (encoding === 'deflate') inflate = zlib.inflateSync;
  else if (encoding !== 'identity') {
    req.resume();
    req.on('end', () => done(new HttpError(415, 'unsupported content encoding')));
    return;
  }
  if (!inflate && cl !== undefined && Number(cl) > RAW_LIMIT) {
    req.resume();
    req.on('end', () => done(new HttpError(413, 'request entity too large')));
    return;
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('error', (err) => done(new HttpError(400, err.message)));
  req.on('end', () => {
    let body = Buffer.concat(chunks);
    if (inflate) {
      try {
        body = inflate(body);
      } catch (err) {
        return done(new HttpError(400, err.message));
      }
    }
    if (body.length > RAW_LIMIT) return done(new HttpError(413, 'request entity too large'));
    done(null, body);
  });
}

const server = http.createServer((req, res) => {
  if (req.method !== 'POST') {
    res.statusCode = 405;
    res.end();
    return;
  }
  const webhookId = String(req.headers['webhook-id'] || '');
  let verified = false;
  let eventId = '';
  const answer = (status, body) => {
    emit(JSON.stringify({ verified: verified === true, status, event_id: eventId, webhook_id: webhookId }));
    res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(body);
  };
  rawBody(req, (err, body) => {
    if (err) return answer(err.status, err.message);
    req.body = body;
    try {
      const signature = req.headers['x-webhook-signature'];
      verified = verifyWebhookSignature(req.body, signature, WEBHOOK_SECRET);
      if (!verified) {
        return answer(401, 'Invalid signature');
      }
      const event = JSON.parse(req.body);
      if (event && typeof event.event_id === 'string') eventId = event.event_id;
      answer(200, 'OK');
    } catch (e) {
      // Express: a throw in the handler goes to the default error handler.
      process.stderr.write(`receiver.js: ${e && e.stack ? e.stack : e}\n`);
      answer(500, 'Internal Server Error');
    }
  });
});

server.listen(0, '127.0.0.1', () => {
  emit(`listening ${server.address().port}`);
});

// Run until stdin closes (the harness closes it) or a signal ends us.
// A shell's background job has no such pipe (stdin is /dev/null): it runs
// until killed.
if (require('fs').fstatSync(0).isFIFO()) {
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
  process.stdin.resume();
}
