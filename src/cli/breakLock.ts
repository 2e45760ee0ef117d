import type { CliCommand } from './common';
import { UcpError } from '../core/errors';

// Placeholder until its issue lands; replaced by the owner of this command.
export const command: CliCommand = async () => {
  throw new UcpError('This command is not built yet.');
};
