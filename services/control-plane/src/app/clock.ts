/** Time and randomness come in through here, so that use cases can be driven by tests. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
