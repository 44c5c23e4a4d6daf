import { CmsError } from '../errors.js';

// CMS's published result codes ("错误码参考", cms-api.md) and what each means for the operator: the one place a
// code becomes words, for logs, API errors and the CLI alike.

export const SUCCESS_RESULT_CODE = '0100000';
export const INVALID_PARAMETER_RESULT_CODE = '0100002';
export const WRONG_CTI_VERSION_RESULT_CODE = '0100003';
export const PERMISSION_RESULT_CODE = '0101003';

const MEANINGS: Readonly<Record<string, string>> = {
  [SUCCESS_RESULT_CODE]: 'success',
  '0100001': 'the call failed on the CMS side',
  [INVALID_PARAMETER_RESULT_CODE]: 'invalid parameter (CMS refused the call center, VDN or skill ids)',
  [WRONG_CTI_VERSION_RESULT_CODE]:
    'this interface needs CTI V300R008 and this CMS runs CTI V300R006: the statistics are not available on it',
  '0100999': 'unknown error on the CMS side',
  '0101001': 'quality-inspection relationship interface error on the CMS side',
  '0101002': 'the queried number does not exist on the UAP',
  [PERMISSION_RESULT_CODE]: 'insufficient permission: this key pair may not read the statistics of this VDN',
};

/** The operator's reading of a result code; codes outside the published table are said to be so. */
export function resultCodeMeaning(code: string): string {
  return MEANINGS[code] ?? 'a result code CMS does not publish';
}

/** HTTP 200 with a `resultCode` (or, from older servers, a `result`) other than success. */
export class CmsResultError extends CmsError {
  readonly code = 'CMS_RESULT_ERROR';
  readonly retryable = false;
  constructor(
    readonly resultCode: string,
    readonly resultText: string,
  ) {
    super(
      `CMS result code ${resultCode} (${resultCodeMeaning(resultCode)})${resultText ? `: ${resultText}` : ''}`,
    );
  }
}
