/** What a consumer does with a command once handled: ack it, put it back, or drop (dead-letter) it. */
export type CommandOutcome = 'ack' | 'requeue' | 'drop';
