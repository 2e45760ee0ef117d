/** The command ids of package.json `contributes.commands` (no `vscode` import: a unit test compares them). */
export const COMMAND_IDS = [
  'ucpBackup.backupNow',
  'ucpBackup.verify',
  'ucpBackup.drill',
  'ucpBackup.showDetails',
  'ucpBackup.download',
  'ucpBackup.delete',
  'ucpBackup.compare',
  'ucpBackup.addCluster',
  'ucpBackup.removeCluster',
  'ucpBackup.forgetPassphrase',
  'ucpBackup.breakLock',
  'ucpBackup.showLog',
  'ucpBackup.refresh',
  'ucpBackup.forgetBackup',
  'ucpBackup.clearFailed',
  'ucpBackup.applyRetention',
  'ucpBackup.copyTo',
] as const;

export type CommandId = (typeof COMMAND_IDS)[number];
