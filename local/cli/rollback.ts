import { rollback } from '#shared/deployment/rollback';
import { trafficCommand } from './traffic-command';

export const main = trafficCommand({
  name: 'rollback',
  description: 'put traffic back on the split before the last change, or all of it on <version> (deploying it again if it was undeployed)',
  versionArg: '[version]',
  run: (ctx, model, version, waitMs) => rollback(ctx, model, version, waitMs ? { waitMs } : {}),
});
