"""Running a batch: the callqa command, workers, queue, locks, Luigi glue, evaluation."""
