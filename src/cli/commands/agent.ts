// (placeholder: replaced by the agent implementation)
import type { Command } from 'commander';
export function registerAgent(_program: Command): void {}
