import type { Command } from 'commander';
import { createPosAuthPersistence, rebuildProjections } from '@pos-auth/infrastructure';
import { withDatabase } from '../database.js';
import { progressBar, rebuildProgressLabels } from '../progress.js';

const rebuild = () =>
  withDatabase(async ({ pool }) => {
    const { eventStore } = await createPosAuthPersistence(pool);
    const progress = progressBar();
    try {
      const { replayed, swapMs } = await rebuildProjections(pool, eventStore, {
        onProgress: (phase, done, total) => progress.update(rebuildProgressLabels[phase], done, total),
      });
      progress.stop();
      console.log(`Projections rebuilt from the event log (${replayed} events); the new tables were swapped in within ${swapMs.toFixed(0)} ms.`);
    } finally {
      progress.stop();
    }
  });

/** `projections rebuild` (and its old name, `rebuild-projections`). */
export const registerProjectionCommands = (program: Command): void => {
  const projections = program.command('projections').description('the read models kept from the event log');
  projections
    .command('rebuild')
    .description('rebuild every projection from the event log into new tables, then swap them in; the service keeps serving')
    .action(rebuild);
  program.command('rebuild-projections', { hidden: true }).description('the old name of `projections rebuild`').action(rebuild);
};
