/** Run by json-file.test.ts under strace: writes a JSON file twice (created, then replaced) in the folder given. */
import { join } from 'node:path';
import { writeJsonFileAtomic } from '../../src/json-file.js';

const file = join(process.argv[2]!, 'profiles.json');
writeJsonFileAtomic(file, { profiles: [{ name: 'first' }] });
writeJsonFileAtomic(file, { profiles: [{ name: 'second' }] });
console.log(JSON.stringify({ file, tmp: `${file}.${process.pid}.tmp` }));
