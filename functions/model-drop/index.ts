import { cloudEvent } from '@google-cloud/functions-framework';
import { modelDrop } from './handler';

cloudEvent('model-drop', modelDrop);
