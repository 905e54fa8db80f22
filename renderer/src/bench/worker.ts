/** The UI bench's synthetic exchange, off the page's main thread (as main/the server would be). */
import { createFixtureServer, messagePortPort } from './fixture.js';

const server = createFixtureServer();
self.onmessage = (ev: MessageEvent) => {
  const m = ev.data as { t: 'connect'; port: MessagePort } | { t: 'stream'; rate: number } | { t: 'stop' };
  if (m.t === 'connect') server.serve(messagePortPort(m.port));
  else if (m.t === 'stream') server.stream(m.rate);
  else server.stop();
};
