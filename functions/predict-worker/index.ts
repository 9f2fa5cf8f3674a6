import { cloudEvent } from '@google-cloud/functions-framework';
import { handlePredictionRequest } from './handle-request';

cloudEvent('predict-worker', handlePredictionRequest);
