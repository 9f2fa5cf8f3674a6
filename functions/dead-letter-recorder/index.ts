import { cloudEvent } from '@google-cloud/functions-framework';
import { handleDeadLetter } from './handle-dead-letter';

cloudEvent('dead-letter-recorder', handleDeadLetter);
