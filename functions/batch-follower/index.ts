import { cloudEvent } from '@google-cloud/functions-framework';
import { batchFollowerTick } from './handler';

cloudEvent('batch-follower', batchFollowerTick);
