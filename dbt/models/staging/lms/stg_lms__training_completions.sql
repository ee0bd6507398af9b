select
    observed_at,
    enrollment_id,
    lms_user_id,
    employee_id,
    lower(email) as email,
    course_code,
    course_title,
    curriculum,
    curriculum = 'Security Awareness' as is_security_awareness,
    assigned_at,
    due_date,
    completed_at,
    status as enrollment_status,
    status = 'Completed' and completed_at is not null as is_completed,
    score,
    raw,
    lake_file
from {{ source('lms', 'lms__training_completions') }}
