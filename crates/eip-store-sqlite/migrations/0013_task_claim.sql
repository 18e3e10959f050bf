-- Which process is running a task, until when (epoch ms): with several
-- nodes on one store each due task is claimed by one of them, and a claim
-- whose holder died lapses so another node runs the task.
ALTER TABLE task ADD COLUMN claimed_by TEXT CHECK (claimed_by IS NULL OR length(claimed_by) > 0);
ALTER TABLE task ADD COLUMN claimed_until INTEGER CHECK ((claimed_until IS NULL) = (claimed_by IS NULL));
