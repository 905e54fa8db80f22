/**
 * What the server's entry point (main.ts) does differently per operating system (and the signals it stops
 * on: engine/host/signals.ts).
 */

/**
 * The command that creates the first admin with the setup token, for the shell of the system: curl with
 * POSIX quoting, or on Windows PowerShell's Invoke-RestMethod (cmd.exe takes neither single quotes nor a
 * backslash at the end of a line, and PowerShell 5.1's `curl` is another command).
 */
export function setupCommand(url: string, platform: NodeJS.Platform = process.platform): string[] {
  const body = '{"setupToken":"<token>","username":"admin","password":"<your password>"}';
  return platform === 'win32'
    ? [` PowerShell:`, `   Invoke-RestMethod -Method Post -Uri ${url}/api/v1/auth/setup -ContentType 'application/json' \``, `     -Body '${body}'`]
    : [` curl -X POST ${url}/api/v1/auth/setup -H 'Content-Type: application/json' \\`, `   -d '${body}'`];
}

/**
 * Said at start-up where file modes do not keep others out: on Windows a file's mode sets only its read-only
 * flag, and who may read the key file, the users database and the backups is the folder's ACL.
 */
export function permissionsWarning(platform: NodeJS.Platform = process.platform): string | undefined {
  return platform === 'win32'
    ? 'File modes (0600, 0700) do not restrict access on Windows: keep the database folder, the key file and the backup folder where only the account that runs the server can read them (their folders\u2019 permissions)'
    : undefined;
}
