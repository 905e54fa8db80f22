/** The built-in panels. Feature folders (e.g. src/power/: the chart, the ladder) register more through the same registry. */
import { AdminPanel } from '../admin/AdminPanel.js';
import { AccountPanel } from './Account.js';
import { Blotter } from './Blotter.js';
import { Positions } from './Positions.js';
import { registerPanel } from './registry.js';
import { Tape } from './Tape.js';
import { Ticket } from './Ticket.js';
import { Watchlist } from './Watchlist.js';

registerPanel({ kind: 'watchlist', title: 'Watchlist', component: Watchlist, addable: true });
registerPanel({ kind: 'ticket', title: 'Order ticket', component: Ticket, addable: true, orderEntry: true, ownBadge: true });
registerPanel({ kind: 'blotter', title: 'Orders & fills', component: Blotter, addable: true, orderEntry: true });
registerPanel({ kind: 'positions', title: 'Positions', component: Positions, addable: true });
registerPanel({ kind: 'account', title: 'Account', component: AccountPanel, addable: true });
registerPanel({ kind: 'tape', title: 'Time & sales', component: Tape, addable: true });
registerPanel({ kind: 'admin', title: 'Admin', component: AdminPanel, addable: true, adminOnly: true });
