/** Who asks: the verified caller of an HTTP request. Every read and write is scoped by `orgId`. */
export interface Actor {
  orgId: string;
  userId: string;
  permissions: ReadonlySet<string>;
  correlationId: string;
}
