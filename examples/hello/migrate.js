// The demo's release command: runs once per deploy, before the switch, in the new release (storage is shared/).
const fs = require('node:fs');
fs.mkdirSync('storage', { recursive: true });
fs.appendFileSync('storage/migrations.log', `${new Date().toISOString()} migrated for release ${process.env.MONO_RELEASE}\n`);
console.log(`migrated for release ${process.env.MONO_RELEASE}`);
