// The demo's release command: runs once per deploy, before the switch, in the new release's environment.
const fs = require('node:fs');
const shared = process.env.MONO_SHARED || '../../shared';
fs.mkdirSync(`${shared}/storage`, { recursive: true });
fs.appendFileSync(`${shared}/storage/migrations.log`, `${new Date().toISOString()} release ${process.env.MONO_RELEASE}\n`);
console.log(`migrated for release ${process.env.MONO_RELEASE}`);
