import { cloudEvent } from '@google-cloud/functions-framework';
import { handleResultMessage } from './handle-result-message';

cloudEvent('results-ledger', handleResultMessage);
