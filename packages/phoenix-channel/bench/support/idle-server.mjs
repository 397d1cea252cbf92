// Child process for the memory benchmark: a Phoenix-like endpoint that answers joins and heartbeats.
// Prints its port on stdout, then serves until stdin closes.
import { WebSocketServer } from 'ws';

const wss = new WebSocketServer({
  host: '127.0.0.1',
  port: 0,
  perMessageDeflate: true,
  clientTracking: false,
});
wss.on('connection', (ws) => {
  ws.on('error', () => {});
  ws.on('message', (data) => {
    const [joinRef, ref, topic, event] = JSON.parse(data.toString());
    if (event === 'phx_join' || event === 'heartbeat' || event === 'phx_leave') {
      ws.send(JSON.stringify([joinRef, ref, topic, 'phx_reply', { status: 'ok', response: {} }]));
    }
  });
});
wss.on('listening', () => {
  process.stdout.write(`${wss.address().port}\n`);
});
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
