// Parses a Procfile ("name: command" per line) into ordered process types.
import { problem, type Problem } from './problems.js';

export const PROCESS_NAME = /^[a-z][a-z0-9_-]{0,30}$/;

export function parseProcfile(text: string, label: string): { processes: Record<string, string>; problems: Problem[] } {
  const processes: Record<string, string> = {};
  const problems: Problem[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = `${label}:${index + 1}`;
    const match = /^([^:\s]+)\s*:\s*(.*)$/.exec(line);
    if (match === null || match[1] === undefined || match[2] === undefined) {
      problems.push(problem(where, `expected "name: command", got "${line}"`, 'each line names a process type, a colon, then its command'));
      return;
    }
    const [, name, command] = match;
    if (!PROCESS_NAME.test(name)) problems.push(problem(where, `"${name}" is not a valid process type name`, 'use lower-case letters, digits, "-" and "_", starting with a letter'));
    else if (command.trim() === '') problems.push(problem(where, `process type "${name}" has no command`));
    else if (processes[name] !== undefined) problems.push(problem(where, `process type "${name}" is listed twice`));
    else processes[name] = command.trim();
  });
  return { processes, problems };
}
