import { describe, expect, it } from 'vitest';
import { sessionEndedNote } from '../../src/auth/ended.js';

describe('why a session ended, in words', () => {
  it('says what the server recorded, and falls back to plain words otherwise', () => {
    expect(sessionEndedNote({ code: 'SESSION_REVOKED', details: { reason: 'user disabled' } })).toBe('An administrator disabled your account.');
    expect(sessionEndedNote({ code: 'SESSION_REVOKED', details: { reason: 'password reset' } })).toMatch(/^An administrator reset your password/);
    expect(sessionEndedNote({ code: 'SESSION_REVOKED', details: { reason: 'constructor' } })).toBe('Your session was ended. Sign in again.');
    expect(sessionEndedNote({ code: 'SESSION_REVOKED' })).toBe('Your session was ended. Sign in again.');
    expect(sessionEndedNote({ code: 'UNAUTHENTICATED', message: 'The refresh token expired; sign in again' })).toBe('Your session expired. Sign in again.');
    expect(sessionEndedNote(undefined)).toBe('Your session expired. Sign in again.');
  });
});
