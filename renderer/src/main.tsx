/** Entry: find the backend (desktop bridge, headless host or exchange server), then mount the app. */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.js';
import { createBackend } from './data/backend.js';
import { Live, LiveProvider } from './data/live.js';
import './panels/index.js';
import './theme/styles.css';
import { applyTheme } from './ui/theme.js';
import { PREF, getPref } from './workspace/prefs.js';

applyTheme(getPref<string>(PREF.theme, 'dark') === 'light' ? 'light' : 'dark');
const root = createRoot(document.getElementById('root')!);

createBackend().then(
  (backend) => {
    const live = new Live(backend);
    // Server mode starts after sign-in; hub modes connect at once.
    if (backend.auth === undefined) live.start();
    (window as unknown as { __tradedesk?: Live }).__tradedesk = live;
    root.render(
      <StrictMode>
        <LiveProvider live={live}>
          <App />
        </LiveProvider>
      </StrictMode>,
    );
  },
  (e: unknown) => {
    root.render(
      <div className="fatal">
        <h1>TradeDesk cannot start</h1>
        <p>{e instanceof Error ? e.message : String(e)}</p>
      </div>,
    );
  },
);
