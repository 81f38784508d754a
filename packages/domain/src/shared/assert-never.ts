/** Exhaustiveness check for `switch` statements over tagged unions. */
export const assertNever = (value: never): never => {
  throw new TypeError(`Unexpected value: ${JSON.stringify(value)}`);
};
