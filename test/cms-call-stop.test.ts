import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { stopForCall } from '../lib/cms/call-stop.js';
import { CmsIpLockedError, CmsTimeoutError } from '../lib/errors.js';

describe('the stop of a CMS call', () => {
  it('is already stopped by a deadline that has passed, with the deadline as its reason', () => {
    const stop = stopForCall(0, undefined);
    expect(stop.signal.reason).toBeInstanceOf(CmsTimeoutError);
    expect(stop.signal.reason.message).toBe('the deadline passed before CMS answered');
  });

  it('stops when the deadline passes', async () => {
    const stop = stopForCall(20, undefined);
    await sleep(60);
    expect(stop.signal.reason).toBeInstanceOf(CmsTimeoutError);
    expect(stop.signal.reason.message).toBe('the deadline passed before CMS answered');
  });

  it('stops with the CMS reason a caller gives, or as cancelled by the caller otherwise', () => {
    const locked = new AbortController();
    const cancelled = new AbortController();
    const stoppedByLock = stopForCall(10_000, locked.signal);
    const stoppedByCaller = stopForCall(10_000, cancelled.signal);
    const lock = new CmsIpLockedError();
    locked.abort(lock);
    cancelled.abort();
    expect(stoppedByLock.signal.reason).toBe(lock);
    expect(stoppedByCaller.signal.reason).toBeInstanceOf(CmsTimeoutError);
    expect(stoppedByCaller.signal.reason.message).toBe('the caller cancelled the request to CMS');
  });

  it('passes on the reason a batch stops it with', () => {
    const stop = stopForCall(10_000, undefined);
    const lock = new CmsIpLockedError();
    stop.abort(lock);
    expect(stop.signal.reason).toBe(lock);
  });

  it('does not stop early for a deadline beyond what a timer can hold', async () => {
    const stop = stopForCall(2 ** 31, undefined);
    await sleep(20);
    expect(stop.signal.aborted).toBe(false);
  });

  it('no longer follows the caller once disposed', () => {
    const caller = new AbortController();
    const stop = stopForCall(10_000, caller.signal);
    stop.dispose();
    caller.abort();
    expect(stop.signal.aborted).toBe(false);
  });
});
