/**
 * The browser's sign-in client checks what the server answers against the protocol's REST schemas: a
 * malformed answer is a typed error, never a half-signed-in state. A stand-in server on 127.0.0.1 answers.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PublicUserSchema } from '../../../engine/protocol/index.js';
import { ServerAuth } from '../../src/data/server-auth.js';

let server: Server;
let base: string;
let answer: unknown;

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/auth`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const user = { id: 7, username: 'kim', role: 'trader', accountId: 3, disabled: false, totpEnabled: false, mustChangePassword: false, createdAt: 1 };
const pair = { accessToken: 'tda_x', refreshToken: 'tdr_y', tokenType: 'Bearer', expiresIn: 900, refreshExpiresIn: 86_400, sessionId: 's1', user };

describe('ServerAuth against the REST schemas', () => {
  it('signs in on a well-formed answer', async () => {
    answer = pair;
    const auth = new ServerAuth(base);
    expect(await auth.login('kim', 'pw')).toEqual(user);
    expect(auth.signedIn).toBe(true);
  });

  it('refuses a malformed sign-in answer with a typed error and stays signed out', async () => {
    for (const bad of [{ ...pair, accessToken: 5 }, { ...pair, user: { ...user, role: 'root' } }, { ...pair, expiresIn: '900' }, null, 'ok']) {
      answer = bad;
      const auth = new ServerAuth(base);
      await expect(auth.login('kim', 'pw')).rejects.toMatchObject({ code: 'INTERNAL', message: `Unexpected answer from ${base}/login` });
      expect(auth.signedIn).toBe(false);
    }
  });

  it('checks an admin answer against the schema it is given', async () => {
    answer = pair;
    const auth = new ServerAuth(base);
    await auth.login('kim', 'pw');
    answer = [user, { ...user, id: 8, username: 'lou' }];
    expect(await auth.api('GET', '/admin/users', z.array(PublicUserSchema))).toHaveLength(2);
    answer = [{ ...user, passwordHash: undefined, id: 'eight' }];
    await expect(auth.api('GET', '/admin/users', z.array(PublicUserSchema))).rejects.toMatchObject({ code: 'INTERNAL', details: { issues: [expect.objectContaining({ path: [0, 'id'] })] } });
  });
});
