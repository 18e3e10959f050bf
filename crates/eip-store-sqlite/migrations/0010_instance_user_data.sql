-- RunInstances / CreateInstance UserData (Base64, as sent), served by ECS
-- DescribeUserData. Its own table so that the instance rows the data plane
-- scans stay small; removed with the instance.
CREATE TABLE instance_user_data (
    instance_id TEXT PRIMARY KEY REFERENCES instance (id) ON DELETE CASCADE,
    user_data TEXT NOT NULL CHECK (length(user_data) <= 45000)
);
