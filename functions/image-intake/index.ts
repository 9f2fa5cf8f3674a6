import { cloudEvent } from '@google-cloud/functions-framework';
import { handleFinalized } from './handle-finalized';

cloudEvent('image-intake', handleFinalized);
