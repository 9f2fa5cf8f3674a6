import { promote } from '#shared/deployment/promote';
import { trafficCommand } from './traffic-command';

export const main = trafficCommand({
  name: 'promote',
  description: 'give a DEPLOYED version (a canary) all the traffic of its endpoint and undeploy the others',
  versionArg: '<version>',
  run: (ctx, model, version, waitMs) => promote(ctx, model, version!, waitMs ? { waitMs } : {}),
});
