import { cloudEvent } from '@google-cloud/functions-framework';
import { reconcilerTick } from './handler';

cloudEvent('reconciler', reconcilerTick);
