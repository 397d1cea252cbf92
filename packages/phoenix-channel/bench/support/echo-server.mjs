// Child process for the client benchmark: a Phoenix V2 endpoint that answers joins, heartbeats and every push
// (echoing its payload), and sends `count` server pushes when asked with `burst`. Parses frames with JSON.parse,
// so neither client's codec is involved on this side. Prints its port, then serves until stdin closes.
import { WebSocketServer } from 'ws';

const wss = new WebSocketServer({
  host: '127.0.0.1',
  port: 0,
  perMessageDeflate: false,
  clientTracking: false,
});
wss.on('connection', (ws) => {
  ws.on('error', () => {});
  ws.on('message', (data) => {
    const [joinRef, ref, topic, event, payload] = JSON.parse(data.toString());
    if (event === 'burst') {
      for (let i = 0; i < payload.count; i++) {
        ws.send(JSON.stringify([joinRef, null, topic, 'tick', { seq: i, body: payload.body }]));
      }
      ws.send(JSON.stringify([joinRef, null, topic, 'burst_done', {}]));
      return;
    }
    const response = event === 'phx_join' || event === 'heartbeat' || event === 'phx_leave' ? {} : payload;
    ws.send(JSON.stringify([joinRef, ref, topic, 'phx_reply', { status: 'ok', response }]));
  });
});
wss.on('listening', () => process.stdout.write(`${wss.address().port}\n`));
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
