// The tiny model's training text, shipped as a module so that it travels with the worker's bundle (a worker gets
// only the bundled code, never the files beside it). Written for this example.
export const CORPUS = `
A stream sends each result as soon as it is ready. The client reads the first words while the worker is still
writing the rest. A long answer feels fast when the first word arrives early. The worker yields one token at a time,
and the server sends each token as an event. The browser shows every event the moment it comes in.
A queue holds the job until a worker is free. The worker takes the job, runs the model and posts each token back.
When the client stops reading, the server tells the worker to stop, and the worker closes the generator.
A progress event tells the client how much of a long job is done. The client draws a bar and waits for the next event.
The model is small, but the stream is real: every token leaves the worker as soon as the model picks it.
`;
