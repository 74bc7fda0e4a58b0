/**
 * The base of every failure the action expects (bad input, nix, keys, the
 * workspace, the deploy-rs command): its message is for the user as it is.
 * The run catches it once; anything else is a bug and is labelled so.
 */
export class ExpectedError extends Error {
  constructor(message: string) {
    super(message)
    this.name = new.target.name
  }
}
